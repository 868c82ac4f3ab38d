"""Intelligent dispatch (智能分拨): pure-Python engine, no Django.

Taxonomy and Gazetteer load the district's data; DispatchClassifier tells what an appeal is about
and how urgent; DuplicateIndex finds repeats among open cases; DispatchEngine puts them together
into a Suggestion for the dispatcher; evaluation measures it against labelled appeals.
"""

from .classifier import DispatchClassifier, Prediction
from .duplicates import DuplicateIndex
from .gazetteer import Gazetteer, Location
from .pipeline import DispatchEngine, Suggestion
from .taxonomy import Taxonomy

__all__ = [
    "DispatchClassifier", "DispatchEngine", "DuplicateIndex", "Gazetteer", "Location",
    "Prediction", "Suggestion", "Taxonomy",
]
