"""The protocol warehouse.

Importing the package makes the process owner-only (umask 077): the vault, quarantined files,
the audit log and every copy hold personal data from the moment they are created.
"""

from orchestration.foundations.settings import owner_only_umask

owner_only_umask()
