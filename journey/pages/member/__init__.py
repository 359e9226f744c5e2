"""The member portal, by what a member's staff do: answer requests and open journeys
for walk-in patients (:mod:`.requests`), review the cases of the patients they treat
(:mod:`.cases`), edit offers (:mod:`.offers`) and see which lack a translation
(:mod:`.translations`), read the settlement statement (:mod:`.statement`), do their
logistics tasks (:mod:`.tasks`). :mod:`.access` holds what every portal page checks
first. Each module's blueprint is nested in the portal's (:mod:`.requests`), so its
endpoints read ``member.<module>.*``."""
