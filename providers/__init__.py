"""The catalogue: members, offers, chain links, multilingual content, prices, calendars."""
