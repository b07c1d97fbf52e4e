"""Team: inviting staff members to log in (staff invitations) and accepting the invitations."""
