"""The core every package may use: configuration, extensions, errors, types and the
clock, money, i18n, reasons, persistence helpers, validation, and accounts with their
roles and permissions. It imports no domain code (``providers``, ``bookings`` or the rest
of ``journey``); ``tests/test_layers.py`` fails when an import runs against
``journey -> bookings -> providers -> journey.core``."""
