"""Showing a buyer's details to a cooperative only as far as it needs to ship.

The portal shows the recipient's name and the full delivery address (the
packer must ship there) but masks the phone number and never shows the
buyer's e-mail.
"""

from privacy.masking import mask_phone

__all__ = ["mask_phone"]  # kept importable; the rules live in privacy/masking.py
