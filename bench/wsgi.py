"""The real application plus one baseline route, for the benchmark only.

``gunicorn bench.wsgi:app`` serves exactly what ``wsgi.py`` serves, and in addition
``GET /bench/baseline/<id>``: one primary-key ``SELECT`` of an offer through the same
stack (gunicorn, Flask, the request edge, SQLAlchemy, psycopg, PostgreSQL) and a tiny
JSON body. Its throughput in the same run is the yardstick for the catalogue search.
"""

from flask import abort, jsonify

from journey.app import create_app
from journey.extensions import db
from providers.models import Offer

app = create_app()


@app.get("/bench/baseline/<int:offer_id>")
def bench_baseline(offer_id: int):
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        abort(404)
    return jsonify(id=offer.id, currency=offer.currency, price_minor=offer.base_price_minor)
