"""What every answer carries for the browser's protection, and who the client is.

- **Security headers** on every response, page and API alike: a Content-Security-Policy
  that allows the app's own origin and what the Stripe card element needs (Stripe.js,
  its frames and API), no framing (``frame-ancestors 'none'`` and ``X-Frame-Options``),
  ``nosniff``, a strict ``Referrer-Policy``, and HSTS in production over HTTPS.
- **The client address** from ``X-Forwarded-For`` only behind as many proxies as
  ``PROXY_FIX_HOPS`` says (werkzeug's ProxyFix); otherwise the header is not trusted.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix


class ConfiguredProxyFix:
    """werkzeug's ProxyFix with the number of hops read from the app's configuration."""

    def __init__(self, app: Flask):
        self.app = app
        self.wsgi_app = app.wsgi_app
        self._fixed: dict[int, ProxyFix] = {}

    def __call__(self, environ, start_response):
        hops = int(self.app.config.get("PROXY_FIX_HOPS") or 0)
        if hops <= 0:
            return self.wsgi_app(environ, start_response)
        fixed = self._fixed.get(hops)
        if fixed is None:
            fixed = self._fixed[hops] = ProxyFix(self.wsgi_app, x_for=hops, x_proto=hops,
                                                 x_host=hops)
        return fixed(environ, start_response)


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def content_security_policy(config, *, docs: bool = False) -> str:
    stripe_js = config.get("STRIPE_JS_URL") or (
        "https://js.stripe.com/v3/" if config["STRIPE_API_BASE"].rstrip("/") ==
        "https://api.stripe.com" else config["STRIPE_API_BASE"].rstrip("/") + "/")
    stripe = sorted({o for o in (_origin(stripe_js), _origin(config["STRIPE_API_BASE"]))
                     if o})
    if "https://js.stripe.com" in stripe:
        # Stripe.js's own frames, and the bank's check (3-D Secure), which Stripe.js
        # shows in a frame of hooks.stripe.com (the bank's page is framed inside it).
        stripe += ["https://*.js.stripe.com", "https://hooks.stripe.com"]
    script = ["'self'", *stripe]
    if docs:  # Swagger UI's page starts itself with an inline script
        script.append("'unsafe-inline'")
    directives = {
        "default-src": ["'self'"],
        "script-src": script,
        "style-src": ["'self'"] + (["'unsafe-inline'"] if docs else []),
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'", *stripe],
        "frame-src": stripe or ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def configure_security(app: Flask) -> None:
    app.wsgi_app = ConfiguredProxyFix(app)
    policies = {}

    @app.after_request
    def security_headers(response):
        docs = request.path.startswith(app.config["OPENAPI_URL_PREFIX"] + "/docs")
        # Made once per set of inputs (the Stripe addresses may be configured after start).
        key = (docs, app.config["STRIPE_API_BASE"], app.config.get("STRIPE_JS_URL"))
        if key not in policies:
            policies[key] = content_security_policy(app.config, docs=docs)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policies[key])
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config["ENV_NAME"] == "production" and request.is_secure:
            headers.setdefault("Strict-Transport-Security",
                               "max-age=31536000; includeSubDomains")
        return response
