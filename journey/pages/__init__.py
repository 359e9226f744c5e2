"""Web pages (server-rendered): the patient's pages and the helpers pages share."""
