"""The services of messages per journey: :mod:`.threads` (who takes part, reading and
writing, unread counts, attachments) and :mod:`.notify` (the e-mail to each other party)."""
