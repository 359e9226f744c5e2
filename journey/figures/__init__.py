"""The cluster's figures: what happened in a period (journeys opened, bookings
confirmed, revenue, members waiting), as SQL aggregates (:mod:`.services`), and the
server-drawn charts that show them (:mod:`.charts`)."""
