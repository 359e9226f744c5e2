#!/usr/bin/env bash
# Re-extract the interface strings, merge them into every catalog and compile.
# Run from the repository root:  translations/update.sh
# Set PYBABEL to use another pybabel; the default is the project's virtualenv.
set -euo pipefail

if [[ -z "${PYBABEL:-}" ]]; then
    if [[ -x .venv/bin/pybabel ]]; then
        PYBABEL=.venv/bin/pybabel
    else
        PYBABEL=pybabel
    fi
fi

if [[ ! -f babel.cfg || ! -d translations ]]; then
    echo "translations/update.sh: run me from the repository root" >&2
    exit 1
fi

"$PYBABEL" -q extract -F babel.cfg -k _l -k T -k lazy_ngettext:1,2 -o translations/messages.pot \
    --no-location --sort-output --project "One Window" \
    --copyright-holder "One Window contributors" .
"$PYBABEL" update -i translations/messages.pot -d translations \
    --no-fuzzy-matching --ignore-obsolete
"$PYBABEL" compile -d translations --statistics
