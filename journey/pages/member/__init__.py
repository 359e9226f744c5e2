"""The member portal, by what a member's staff do: answer requests and open journeys
for walk-in patients (:mod:`.requests`), review the cases of the patients they treat
(:mod:`.cases`), edit offers (:mod:`.offers`), read the settlement statement
(:mod:`.statement`), do their logistics tasks (:mod:`.tasks`). :mod:`.access` holds what
every portal page checks first."""
