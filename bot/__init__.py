"""modbot: moderation and safeguarding for UK schools' official social media accounts."""

__version__ = "0.1.0"
