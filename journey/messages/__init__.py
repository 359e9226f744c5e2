"""Messages per journey: threads between the patient, the coordinator and the members."""
