"""Pictures of members and offers (photos uploaded by the members' staff, resized and
stripped of metadata) and the maps of the cluster drawn from vendored Natural Earth data."""
