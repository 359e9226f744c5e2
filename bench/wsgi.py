"""The real application plus two baseline routes, for the benchmarks only.

``gunicorn bench.wsgi:app`` serves exactly what ``wsgi.py`` serves, and in addition:

- ``GET /bench/baseline/<id>``: one primary-key ``SELECT`` of an offer through the same
  stack (gunicorn, Flask, the request edge, SQLAlchemy, psycopg, PostgreSQL) and a tiny
  JSON body. Its throughput in the same run is the yardstick for the catalogue search
  and the quote.
- ``POST /bench/claim/<id>``: one conditional ``UPDATE bench_counter SET used = used + 1
  WHERE id = :id AND used < capacity`` in the request's transaction, answering 201 (a
  unit taken) or 409 (none left). The yardstick for the contended checkout
  (``bench.contention``, which creates the ``bench_counter`` table).
"""

from flask import abort, jsonify
from sqlalchemy import text

from journey.app import create_app, freeze_start_up
from journey.core.extensions import csrf, db
from providers.models import Offer

app = create_app()
freeze_start_up()  # as wsgi.py does


@app.get("/bench/baseline/<int:offer_id>")
def bench_baseline(offer_id: int):
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        abort(404)
    return jsonify(id=offer.id, currency=offer.currency, price_minor=offer.base_price_minor)


@app.post("/bench/claim/<int:counter_id>")
@csrf.exempt
def bench_claim(counter_id: int):
    # The request edge commits on a success and rolls back otherwise, as for the checkout.
    taken = db.session.execute(
        text("UPDATE bench_counter SET used = used + 1 WHERE id = :id AND used < capacity"),
        {"id": counter_id}).rowcount
    if taken:
        return jsonify(status="taken"), 201
    return jsonify(status="sold out"), 409
