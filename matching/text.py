"""Indonesian text as the lexical channel sees it: lowercase word tokens, stemmed, stopwords out."""
from __future__ import annotations

import re
from functools import lru_cache

from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

TOKEN = re.compile(r"[a-z0-9]+(?:[-/][a-z0-9]+)*")
# Indonesian function words and the words of every government document's form (its region, a regulation's
# numbering): they tell no indicator from another. A framework's own such words are in its profile file.
STOPWORDS = frozenset(
    """yang dan di ke dari dalam untuk dengan pada atau ini itu oleh sebagai adalah tidak akan telah serta
    bagi tentang atas secara dapat juga agar para setiap lebih antara bahwa maka harus sudah belum
    pemerintah daerah kota kabupaten provinsi nomor tahun pasal ayat""".split()
)

_stemmer = StemmerFactory().create_stemmer()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Sastrawi stem of one lowercase word; tokens with digits or dashes stay as they are (SP4N-LAPOR, 27001)."""
    if not word.isalpha():
        return word
    return _stemmer.stem(word) or word


def words(text: str) -> list[str]:
    """Lowercase tokens, keeping names like e-katalog, sp4n-lapor and iso/iec whole."""
    return TOKEN.findall(text.lower())


def terms(text: str, generic: frozenset[str] = frozenset()) -> list[str]:
    """Stemmed content words, for bag-of-words scoring; `generic`: the framework's words that every indicator has."""
    return [stem(word) for word in words(text) if word not in STOPWORDS and word not in generic]


# A hyphenated name as writers vary it: "e-Kinerja", "e Kinerja", "eKinerja", "SP4N - LAPOR".
NAME_HYPHEN = r"\s*-?\s*"


def phrase_pattern(phrase: str, joined: bool = False) -> re.Pattern[str]:
    """A curated phrase found on word boundaries, whatever the spacing or line breaks between its words and
    whether its hyphens are written; joined also finds its words run together, as OCR writes a heading
    ("SURATEDARAN")."""
    parts = [NAME_HYPHEN.join(map(re.escape, part.split("-"))) for part in phrase.lower().split()]
    return re.compile(r"(?<![a-z0-9])" + (r"\s*" if joined else r"\s+").join(parts) + r"(?![a-z0-9])")
