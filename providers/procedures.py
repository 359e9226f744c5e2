"""What an offer treats: a small, fixed vocabulary of procedures and specialties.

Each code belongs to a specialty (how the catalogue groups them) and to the links of the
chain where an offer may carry it: a knee arthroplasty is sold as a consultation, as the
surgery itself and as its aftercare follow-up; an MRI scan only as diagnostics. The
journey builder suggests as an alternative to a medical line only offers of the same
procedure.

The chain links are named by their values (``ChainLink`` is a ``StrEnum``, so they
compare equal): :mod:`providers.models` imports this module for the offer's column.
"""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class Specialty(enum.StrEnum):
    ORTHOPAEDICS = "orthopaedics"
    DENTAL = "dental"
    OPHTHALMOLOGY = "ophthalmology"
    CARDIOLOGY = "cardiology"
    PLASTIC_SURGERY = "plastic_surgery"
    FERTILITY = "fertility"
    BARIATRICS = "bariatrics"
    VASCULAR = "vascular"
    DIAGNOSTICS = "diagnostics"
    REHABILITATION = "rehabilitation"
    WELLNESS = "wellness"
    FOLLOW_UP = "follow_up"


SPECIALTY_TITLES = {
    Specialty.ORTHOPAEDICS: _l("Orthopaedics"),
    Specialty.DENTAL: _l("Dentistry"),
    Specialty.OPHTHALMOLOGY: _l("Ophthalmology"),
    Specialty.CARDIOLOGY: _l("Cardiology"),
    Specialty.PLASTIC_SURGERY: _l("Plastic surgery"),
    Specialty.FERTILITY: _l("Fertility"),
    Specialty.BARIATRICS: _l("Weight-loss surgery"),
    Specialty.VASCULAR: _l("Vascular surgery"),
    Specialty.DIAGNOSTICS: _l("Diagnostics and check-ups"),
    Specialty.REHABILITATION: _l("Rehabilitation"),
    Specialty.WELLNESS: _l("Spa and wellness"),
    Specialty.FOLLOW_UP: _l("Follow-up care"),
}


class Procedure(enum.StrEnum):
    # orthopaedics
    ORTHOPAEDIC_CONSULTATION = "orthopaedic_consultation"
    KNEE_ARTHROPLASTY = "knee_arthroplasty"
    HIP_ARTHROPLASTY = "hip_arthroplasty"
    KNEE_ARTHROSCOPY = "knee_arthroscopy"
    SHOULDER_ARTHROSCOPY = "shoulder_arthroscopy"
    SPINE_SURGERY = "spine_surgery"
    # dental
    DENTAL_CHECKUP = "dental_checkup"
    DENTAL_IMPLANT = "dental_implant"
    DENTAL_CROWN = "dental_crown"
    DENTAL_VENEERS = "dental_veneers"
    ROOT_CANAL = "root_canal"
    TEETH_WHITENING = "teeth_whitening"
    # ophthalmology
    EYE_EXAMINATION = "eye_examination"
    CATARACT_SURGERY = "cataract_surgery"
    LASER_VISION_CORRECTION = "laser_vision_correction"
    # cardiology
    CARDIOLOGY_CONSULTATION = "cardiology_consultation"
    CARDIAC_CHECKUP = "cardiac_checkup"
    # plastic surgery
    RHINOPLASTY = "rhinoplasty"
    BLEPHAROPLASTY = "blepharoplasty"
    # fertility
    FERTILITY_CONSULTATION = "fertility_consultation"
    IVF = "ivf"
    # bariatrics
    GASTRIC_SLEEVE = "gastric_sleeve"
    # vascular surgery
    VARICOSE_VEINS = "varicose_veins"
    # diagnostics
    MRI_SCAN = "mri_scan"
    CT_SCAN = "ct_scan"
    PET_CT_SCAN = "pet_ct_scan"
    FULL_CHECKUP = "full_checkup"
    # rehabilitation
    ORTHOPAEDIC_REHABILITATION = "orthopaedic_rehabilitation"
    CARDIAC_REHABILITATION = "cardiac_rehabilitation"
    NEUROLOGICAL_REHABILITATION = "neurological_rehabilitation"
    # spa and wellness
    SPA_WELLNESS = "spa_wellness"
    # follow-up care
    SURGICAL_FOLLOW_UP = "surgical_follow_up"


PROCEDURE_TITLES = {
    Procedure.ORTHOPAEDIC_CONSULTATION: _l("Orthopaedic consultation"),
    Procedure.DENTAL_CHECKUP: _l("Dental check-up"),
    Procedure.EYE_EXAMINATION: _l("Eye examination"),
    Procedure.CARDIOLOGY_CONSULTATION: _l("Cardiology consultation"),
    Procedure.FERTILITY_CONSULTATION: _l("Fertility consultation"),
    Procedure.VARICOSE_VEINS: _l("Varicose vein treatment"),
    Procedure.PET_CT_SCAN: _l("PET-CT scan"),
    Procedure.SURGICAL_FOLLOW_UP: _l("Follow-up after surgery"),
    Procedure.KNEE_ARTHROPLASTY: _l("Knee joint replacement"),
    Procedure.HIP_ARTHROPLASTY: _l("Hip joint replacement"),
    Procedure.KNEE_ARTHROSCOPY: _l("Knee arthroscopy"),
    Procedure.SHOULDER_ARTHROSCOPY: _l("Shoulder arthroscopy"),
    Procedure.SPINE_SURGERY: _l("Spine surgery"),
    Procedure.DENTAL_IMPLANT: _l("Dental implant"),
    Procedure.DENTAL_CROWN: _l("Dental crown"),
    Procedure.DENTAL_VENEERS: _l("Dental veneers"),
    Procedure.ROOT_CANAL: _l("Root canal treatment"),
    Procedure.TEETH_WHITENING: _l("Teeth whitening"),
    Procedure.CATARACT_SURGERY: _l("Cataract surgery"),
    Procedure.LASER_VISION_CORRECTION: _l("Laser vision correction"),
    Procedure.CARDIAC_CHECKUP: _l("Cardiac check-up"),
    Procedure.RHINOPLASTY: _l("Nose reshaping (rhinoplasty)"),
    Procedure.BLEPHAROPLASTY: _l("Eyelid surgery (blepharoplasty)"),
    Procedure.IVF: _l("In vitro fertilisation (IVF)"),
    Procedure.GASTRIC_SLEEVE: _l("Gastric sleeve"),
    Procedure.MRI_SCAN: _l("MRI scan"),
    Procedure.CT_SCAN: _l("CT scan"),
    Procedure.FULL_CHECKUP: _l("Full health check-up"),
    Procedure.ORTHOPAEDIC_REHABILITATION: _l("Rehabilitation after joint or spine surgery"),
    Procedure.CARDIAC_REHABILITATION: _l("Cardiac rehabilitation"),
    Procedure.NEUROLOGICAL_REHABILITATION: _l("Neurological rehabilitation"),
    Procedure.SPA_WELLNESS: _l("Spa and wellness programme"),
}

#: The links where surgery and treatments are sold: the first consultation, the
#: treatment itself, its follow-up.
_TREATED = frozenset({"consultation", "treatment", "aftercare"})
_DIAGNOSED = frozenset({"consultation", "diagnostics"})
_REHABILITATED = frozenset({"rehabilitation", "aftercare"})
#: A specialist's consultation (and its follow-up visit).
_CONSULTED = frozenset({"consultation", "aftercare"})

#: Per procedure: its specialty and the chain links (values) an offer carrying it may have.
PROCEDURES: dict[Procedure, tuple[Specialty, frozenset[str]]] = {
    Procedure.ORTHOPAEDIC_CONSULTATION: (Specialty.ORTHOPAEDICS, _CONSULTED),
    Procedure.KNEE_ARTHROPLASTY: (Specialty.ORTHOPAEDICS, _TREATED),
    Procedure.HIP_ARTHROPLASTY: (Specialty.ORTHOPAEDICS, _TREATED),
    Procedure.KNEE_ARTHROSCOPY: (Specialty.ORTHOPAEDICS, _TREATED),
    Procedure.SHOULDER_ARTHROSCOPY: (Specialty.ORTHOPAEDICS, _TREATED),
    Procedure.SPINE_SURGERY: (Specialty.ORTHOPAEDICS, _TREATED),
    Procedure.DENTAL_CHECKUP: (Specialty.DENTAL, _CONSULTED),
    Procedure.DENTAL_IMPLANT: (Specialty.DENTAL, _TREATED),
    Procedure.DENTAL_CROWN: (Specialty.DENTAL, _TREATED),
    Procedure.DENTAL_VENEERS: (Specialty.DENTAL, _TREATED),
    Procedure.ROOT_CANAL: (Specialty.DENTAL, _TREATED),
    Procedure.TEETH_WHITENING: (Specialty.DENTAL, _TREATED),
    Procedure.EYE_EXAMINATION: (Specialty.OPHTHALMOLOGY, _DIAGNOSED),
    Procedure.CATARACT_SURGERY: (Specialty.OPHTHALMOLOGY, _TREATED),
    Procedure.LASER_VISION_CORRECTION: (Specialty.OPHTHALMOLOGY, _TREATED),
    Procedure.CARDIOLOGY_CONSULTATION: (Specialty.CARDIOLOGY, _CONSULTED),
    Procedure.CARDIAC_CHECKUP: (Specialty.CARDIOLOGY, _DIAGNOSED | {"aftercare"}),
    Procedure.RHINOPLASTY: (Specialty.PLASTIC_SURGERY, _TREATED),
    Procedure.BLEPHAROPLASTY: (Specialty.PLASTIC_SURGERY, _TREATED),
    Procedure.FERTILITY_CONSULTATION: (Specialty.FERTILITY, _CONSULTED),
    Procedure.IVF: (Specialty.FERTILITY, _TREATED | {"diagnostics"}),
    Procedure.GASTRIC_SLEEVE: (Specialty.BARIATRICS, _TREATED),
    Procedure.VARICOSE_VEINS: (Specialty.VASCULAR, _TREATED),
    Procedure.MRI_SCAN: (Specialty.DIAGNOSTICS, _DIAGNOSED),
    Procedure.CT_SCAN: (Specialty.DIAGNOSTICS, _DIAGNOSED),
    Procedure.PET_CT_SCAN: (Specialty.DIAGNOSTICS, _DIAGNOSED),
    Procedure.FULL_CHECKUP: (Specialty.DIAGNOSTICS, _DIAGNOSED),
    Procedure.ORTHOPAEDIC_REHABILITATION: (Specialty.REHABILITATION, _REHABILITATED),
    Procedure.CARDIAC_REHABILITATION: (Specialty.REHABILITATION, _REHABILITATED),
    Procedure.NEUROLOGICAL_REHABILITATION: (Specialty.REHABILITATION, _REHABILITATED),
    Procedure.SPA_WELLNESS: (Specialty.WELLNESS, frozenset({"rehabilitation", "leisure"})),
    Procedure.SURGICAL_FOLLOW_UP: (Specialty.FOLLOW_UP, frozenset({"aftercare"})),
}


def specialty_of(procedure: Procedure | str) -> Specialty:
    return PROCEDURES[Procedure(procedure)][0]


def links_of(procedure: Procedure | str) -> frozenset[str]:
    """The chain links (values) where an offer may carry ``procedure``."""
    return PROCEDURES[Procedure(procedure)][1]


def fits_link(procedure: Procedure | str, chain_link: str) -> bool:
    return str(chain_link) in links_of(procedure)


def procedures_for(chain_link: str | None = None) -> list[Procedure]:
    """The procedures an offer of ``chain_link`` may carry (all of them without one), in
    the vocabulary's order."""
    return [p for p, (_specialty, links) in PROCEDURES.items()
            if chain_link is None or str(chain_link) in links]


def grouped_procedures(chain_link: str | None = None) -> list[tuple[Specialty, list[Procedure]]]:
    """:func:`procedures_for`, grouped by specialty (for a select's option groups)."""
    groups: dict[Specialty, list[Procedure]] = {}
    for procedure in procedures_for(chain_link):
        groups.setdefault(specialty_of(procedure), []).append(procedure)
    return list(groups.items())


def procedure_options(chain_link: str | None = None) -> list[tuple[str, object, object]]:
    """``(code, title, specialty title)`` of every procedure ``chain_link`` may carry,
    specialty by specialty: the options of a select with option groups."""
    return [(procedure.value, PROCEDURE_TITLES[procedure], SPECIALTY_TITLES[specialty])
            for specialty, procedures in grouped_procedures(chain_link)
            for procedure in procedures]
