"""Aftercare services: the schedules (:mod:`.schedules`), the planning and opening of
follow-ups (:mod:`.followups`), the patient's answers and who reads them
(:mod:`.answers`), and the e-mails they send (:mod:`.mails`)."""
