"""Aftercare: follow-ups after the treatment, for the treating member and the patient."""
