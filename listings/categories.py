"""The categories a new community starts with, in Dutch and English.

A coordinator can rename, reorder and retire them, and add their own.
"""

DEFAULT_CATEGORIES: list[tuple[str, str]] = [
    ("Klussen in en om het huis", "Odd jobs in and around the house"),
    ("Tuin en planten", "Garden and plants"),
    ("Fiets en vervoer", "Bicycles and transport"),
    ("Boodschappen en begeleiding", "Shopping and accompanying"),
    ("Gezelschap en uitjes", "Company and outings"),
    ("Koken en eten", "Cooking and food"),
    ("Computer en telefoon", "Computers and phones"),
    ("Taal en lezen", "Language and reading"),
    ("Administratie en formulieren", "Paperwork and forms"),
    ("Kinderen en oppas", "Children and babysitting"),
    ("Huisdieren", "Pets"),
    ("Naaien en repareren", "Sewing and mending"),
    ("Creatief en muziek", "Creative and music"),
    ("Lichaam en gezondheid", "Body and wellbeing"),
    ("Lenen en delen", "Lending and sharing"),
    ("Overig", "Other"),
]
