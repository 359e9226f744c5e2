"""A local stand-in for Stripe Connect's transfers (localstripe has no Connect), answering
as https://docs.stripe.com/api/transfers/create documents: a fixture module shared by the
settlement, replay and race tests."""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class ConnectStub(BaseHTTPRequestHandler):
    """``POST /v1/transfers``, ``/v1/transfers/{id}/reversals``, ``/v1/accounts``,
    ``/v1/account_links`` and ``GET /v1/accounts/{id}`` as Stripe's reference answers
    them; remembers idempotency keys like Stripe does; can be told to fail."""

    requests: list = []
    by_key: dict = {}
    accounts: dict = {}
    fail_next = 0

    def do_GET(self):  # noqa: N802 - GET /v1/accounts/{id}
        type(self).requests.append((self.path, {}, None, self.headers.get("Authorization")))
        account = type(self).accounts.get(self.path.rsplit("/", 1)[-1])
        if account is None:
            return self._answer(404, {"error": {"type": "invalid_request_error",
                                                "message": "No such account."}})
        return self._answer(200, account)

    def do_POST(self):  # noqa: N802
        body = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        params = {k: v[0] for k, v in body.items()}
        key = self.headers.get("Idempotency-Key")
        type(self).requests.append((self.path, params, key,
                                    self.headers.get("Authorization")))
        if type(self).fail_next:
            type(self).fail_next -= 1
            return self._answer(400, {"error": {
                "type": "invalid_request_error", "code": "account_invalid",
                "message": "The destination account is not ready for transfers."}})
        if key in type(self).by_key:
            return self._answer(200, type(self).by_key[key])
        if self.path == "/v1/accounts":
            account = {"id": f"acct_stub{len(type(self).accounts) + 1:04d}",
                       "object": "account", "type": params.get("type"),
                       "country": params.get("country"), "details_submitted": False,
                       "payouts_enabled": False,
                       "requirements": {"currently_due": ["external_account"]}}
            type(self).accounts[account["id"]] = account
            type(self).by_key[key] = account
            return self._answer(200, account)
        if self.path == "/v1/account_links":
            return self._answer(200, {
                "object": "account_link", "expires_at": 9999999999,
                "url": f"https://connect.stripe.test/setup/{params['account']}"})
        if self.path.endswith("/reversals"):  # /v1/transfers/{id}/reversals
            transfer_id = self.path.split("/")[3]
            reversal = {"id": f"trr_{len(type(self).by_key) + 1:04d}",
                        "object": "transfer_reversal", "amount": int(params["amount"]),
                        "transfer": transfer_id}
            type(self).by_key[key] = reversal
            return self._answer(200, reversal)
        transfer = {"id": f"tr_{len(type(self).by_key) + 1:04d}", "object": "transfer",
                    "amount": int(params["amount"]), "currency": params["currency"],
                    "destination": params["destination"],
                    "transfer_group": params.get("transfer_group"), "reversed": False,
                    "metadata": {k[9:-1]: v for k, v in params.items()
                                 if k.startswith("metadata[")}}
        type(self).by_key[key] = transfer
        self._answer(200, transfer)

    def _answer(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def running_connect_stub():
    """A fresh stub on a free loopback port; yields its base URL."""
    ConnectStub.requests, ConnectStub.by_key, ConnectStub.fail_next = [], {}, 0
    ConnectStub.accounts = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), ConnectStub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def connect_stub(app):
    """Point the app's Connect client at a fresh stub."""
    saved = app.config["STRIPE_CONNECT_API_BASE"]
    with running_connect_stub() as url:
        app.config["STRIPE_CONNECT_API_BASE"] = url
        try:
            yield ConnectStub
        finally:
            app.config["STRIPE_CONNECT_API_BASE"] = saved
