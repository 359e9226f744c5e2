"""Verified reviews: the patient of a completed journey rates each member that delivered
a line of it; the member answers once, publicly; the cluster moderates (hides with a
reason, never edits), every moderation action logged."""
