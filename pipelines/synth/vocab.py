"""Small word lists for realistic names; accented names are all representable in cp1252."""

from __future__ import annotations

import unicodedata

FIRST_NAMES = [
    "Zoë", "Léa", "Chloé", "Amélie", "Hélène", "Inès", "Noémie", "Maëlle", "Françoise", "Céline",
    "José", "Jérôme", "François", "Frédéric", "Loïc", "Raphaël", "Noël", "Anaïs", "Björn", "Jürgen",
    "Sören", "Åsa", "Øyvind", "Ñuria", "Añil", "Begoña", "Iñaki", "Joël", "Gaëtan", "Mathéo",
    "Emma", "Lucas", "Hugo", "Louis", "Jules", "Alice", "Marie", "Paul", "Anna", "Sofia",
    "Liam", "Noah", "Mia", "Ella", "Leo", "Tom", "Nina", "Eva", "Max", "Ben",
]
LAST_NAMES = [
    "Müller", "Schäfer", "Größ", "Löwe", "Bäcker", "Dupré", "Lefèvre", "Gérard", "Bérénger", "Fontaine",
    "Núñez", "Muñoz", "Peña", "Ibáñez", "García", "Martín", "López", "Gómez", "Sørensen", "Østergård",
    "Çelik", "Françon", "Caño", "Dubois", "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard",
    "Durand", "Moreau", "Laurent", "Simon", "Michel", "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi",
    "Smith", "Jones", "Brown", "Wilson", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser", "Meyer",
]
DOMAINS = ["gmail.com", "yahoo.fr", "orange.fr", "gmx.de", "web.de", "hotmail.com", "outlook.com", "free.fr", "libero.it"]
CITIES = [
    ("Paris", "FR", "75"), ("Lyon", "FR", "69"), ("Marseille", "FR", "13"), ("Besançon", "FR", "25"),
    ("Orléans", "FR", "45"), ("München", "DE", "80"), ("Köln", "DE", "50"), ("Düsseldorf", "DE", "40"),
    ("Berlin", "DE", "10"), ("Madrid", "ES", "28"), ("Málaga", "ES", "29"), ("A Coruña", "ES", "15"),
    ("Milano", "IT", "20"), ("Roma", "IT", "00"), ("Amsterdam", "NL", "10"), ("Bruxelles", "BE", "10"),
    ("Genève", "CH", "12"), ("Zürich", "CH", "80"), ("København", "DK", "10"), ("Malmö", "SE", "21"),
]
CATEGORIES = [
    "electronics", "home", "kitchen", "garden", "toys", "books", "fashion", "shoes", "beauty", "sports",
    "grocery", "pets",
]
PRODUCT_NOUNS = [
    "Lamp", "Chair", "Kettle", "Blender", "Speaker", "Headphones", "Jacket", "Sneakers", "Backpack", "Novel",
    "Puzzle", "Drone", "Serum", "Yoga Mat", "Bike Light", "Coffee Beans", "Dog Bed", "Plant Pot", "Watch", "Scarf",
]
BRANDS = ["Nordvik", "Lumo", "Verano", "Kaffa", "Boréal", "Atelier", "Pixelia", "Sportiva", "Maison", "Elba"]


def ascii_fold(text: str) -> str:
    """ASCII form of a name, for email addresses (Müller -> Muller, Øyvind -> Oyvind)."""
    text = text.replace("ø", "o").replace("Ø", "O").replace("ß", "ss").replace("å", "a").replace("Å", "A")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
