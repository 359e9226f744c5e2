"""Web pages (server-rendered), a blueprint per thing a person does: the patient's
(:mod:`.patient`), the member portal (:mod:`.member`), the coordinator's board and the
admin; with what they share: form submission and money (:mod:`.common`), forms, the
titles of states and kinds (:mod:`.titles`), rows loaded up front (:mod:`.rows`) and
what every template may use (:mod:`.layout`)."""
