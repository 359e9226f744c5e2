"""The One Window application: app factory, accounts, journeys, pages and commands."""
