"""Beslutsunderlag, tjänsteutlåtanden, följebrev and PDF bundles for Göteborgs Stad.

The pipeline, one module per stage:
YAML (``content``) -> validated model (``model``) -> template context (``context``)
-> .docx (``render``) -> PDF (``convert``) -> bundle (``bundle``).
"""

__version__ = "0.1.0"
