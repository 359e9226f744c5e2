"""What the browser tests' live server holds: the demo cluster, and a package whose
every member confirms at once, which the patient's path books."""

from __future__ import annotations

from pathlib import Path

from flask_migrate import upgrade

from journey.core.extensions import db

#: The all-instant package the patient's path books (every member confirms at once).
INSTANT_PACKAGE = "Dental check-up weekend in Vilnius"


def seed_live_server(app, migrations: Path) -> None:
    """The live server's database: migrated, the demo cluster, and the all-instant
    package (:data:`INSTANT_PACKAGE`)."""
    from journey.builder.services import templates
    from journey.core.accounts.services import get_user_by_email
    from journey.demo import COORDINATOR, demo_offer_id, seed_demo

    with app.app_context():
        upgrade(directory=str(migrations))
        seed_demo()
        coordinator = get_user_by_email(COORDINATOR["email"])
        links = [
            {"default_offer_id": demo_offer_id("ratai-transfers",
                                               "Vilnius Airport transfer (one way)"),
             "day_offset": 0, "days": 1, "quantity": 1},
            {"default_offer_id": demo_offer_id("tilto-namai-hotel",
                                               "Double room with breakfast"),
             "day_offset": 0, "days": 3, "quantity": 1},
            {"default_offer_id": demo_offer_id(
                "baltadante-dental-studio",
                "Dental check-up, X-ray and professional cleaning"),
             "day_offset": 1, "days": 1, "quantity": 1},
            {"default_offer_id": demo_offer_id("dukes-roads-excursions",
                                               "Gentle walk through Vilnius Old Town"),
             "day_offset": 2, "days": 1, "quantity": 1},
        ]
        templates.create_template(
            coordinator, texts={"en": {"name": INSTANT_PACKAGE,
                                       "description": "Every member confirms at once."}},
            links=links, status="published")
        db.session.commit()
