"""Organisations, members, sign-in sessions and devices."""

from cloudlink.accounts.passwords import PasswordPolicy, Passwords
from cloudlink.accounts.principal import Principal
from cloudlink.accounts.sessions import Authenticator, LoginPolicy

__all__ = ["Authenticator", "LoginPolicy", "PasswordPolicy", "Passwords", "Principal"]
