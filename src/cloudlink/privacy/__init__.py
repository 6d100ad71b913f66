"""Privacy: IP anonymisation, collection settings, data-subject requests, retention, audit."""

from cloudlink.privacy.ip_anonymiser import anonymise_ip

__all__ = ["anonymise_ip"]
