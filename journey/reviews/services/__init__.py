"""The reviews' services: writing and reading reviews (:mod:`.reviews`), the cluster's
moderation (:mod:`.moderation`) and the invitation to review (:mod:`.invitations`)."""
