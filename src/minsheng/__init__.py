"""minsheng (民生): a district's platform for livelihood appeals."""

__version__ = "0.1.0"
