"""The patient's case: the answers and documents the treating members ask for, their
review before payment, the patient's consent, and the log of every read."""
