"""The patient's pages, by what the patient does: find offers and packages
(:mod:`.catalogue`), build and plan a journey (:mod:`.journey`), give the treating
members the medical case they ask for (:mod:`.case`), get a quote and pay for it
(:mod:`.quote`), and look after the booking (:mod:`.booking`)."""
