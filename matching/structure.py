"""What a document's form says before its content: its title and subject, its section headings, whether it is
an enacted policy, whether it speaks of electronic systems at all, and whether its file name cites an indicator."""
from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cached_property

from matching.text import phrase_pattern, words

TITLE_WORDS = 60  # a regulation's heading and its "tentang ..." clause fit in this
# How like the region's name a heading's words must be to name it: one OCR slip in "Banjarmasin" (0.91) passes, a
# neighbouring city's name sharing its start ("Banjarbaru", 0.67) does not.
REGION_NAME_SIMILARITY = 0.85
FUZZY_NAME_CHARS = 8  # a shorter name is too like other words to forgive a slip ("Agam", "agama")
# Words of a government's title that OCR may run together with its name ("WALIKOTABANJARMASIN"); longest first
ISSUER_TITLES = ("walikota", "wali", "kota", "bupati", "kabupaten", "gubernur", "provinsi", "pemerintah")
OPENING_CHARS = TITLE_WORDS * 20  # ample for the opening words, so the whole text is not tokenised for them
POLICY_MARKER_WITHIN = 30  # words from the start where "PERATURAN/KEPUTUSAN ..." must stand, after a letterhead
POLICY_TITLE_WITHIN = 12  # words from the start where a self-evident policy title ("Kebijakan Internal ...") stands
# Words of a regulation's heading and preamble: its number, its subject, its considerations, its enactment.
POLICY_CONFIRMATION = ("nomor", "tentang", "menimbang", "mengingat", "memutuskan", "menetapkan", "ditetapkan")
# Words just before a policy's name that cite it rather than head it: "Berdasarkan Keputusan Bupati ...", "mengacu
# pada Peraturan ...", "sebagaimana diatur dalam Peraturan ..." in a report or news item.
CITING_WORDS = frozenset(
    ("berdasarkan", "sesuai", "menurut", "amanat", "melalui", "pada", "dengan", "dalam", "menindaklanjuti")
)
ATTACHMENT_OPENING = "lampiran"  # an annex of a policy is the practice document, not the policy
# A report or minutes headed by its kind ("LAPORAN PELAKSANAAN TUGAS ...") may cite a decree in its first lines.
REPORT_OPENINGS = frozenset(("laporan", "notulen", "notula", "risalah"))
ANNEX_NAME_WORDS = 12  # "LAMPIRAN I PERATURAN MENTERI ... NOMOR": the longest policy name before its number
SELF_REFERENCE = "ini"  # "Lampiran Peraturan Wali Kota ini": the document names its own annex, not heads it
WORD_BEFORE_CHARS = 40  # enough text before a phrase to hold the one word before it
COPY_STAMP = "salinan"  # stamped above the heading of a certified copy
# A circular opens with its addressees ("Yth. 1. Para Menteri ... 13. Para Wali Kota di Tempat"; a region's circular
# names its seat: "5. Direktur RSUD; di - Wae Lestari"), then its heading.
ADDRESSEE_OPENING = "yth"
ADDRESSEE_CLOSING = "di"
ADDRESSEE_PLACE = "tempat"
ADDRESSEE_WORDS = 150  # the longest list of addressees looked through for its closing "di Tempat"
ADDRESSED_OPENING_CHARS = OPENING_CHARS * 3  # room for a long list of addressees before the heading
SUBJECT_OPENING = "tentang"  # "PERATURAN ... NOMOR 5 TAHUN 2024 TENTANG <subject>"
SUBJECT_WORDS = 20  # the subject clause, or a document's first words when it has none
# Where a regulation's subject clause ends: the enacting office, the preamble or the body begins.
SUBJECT_ENDS = frozenset(
    ("dengan", "menimbang", "mengingat", "bahwa", "walikota", "bupati", "gubernur", "menteri", "presiden", "pasal", "bab")
)
# The first section after a titled policy's name: "KEBIJAKAN INTERNAL PUSAT DATA Dasar Hukum ...", "... Tujuan ...".
SECTION_OPENINGS = frozenset(("dasar", "tujuan", "maksud", "sasaran", "pendahuluan", "latar", "ruang", "ketentuan"))
# "... tentang Sistem Pemerintahan Berbasis Elektronik 2. Peraturan ...": the next item of a legal-basis list
# (a one- or two-digit numeral; years have four) ends a subject read from that list.
LIST_NUMERAL = re.compile(r"\d{1,2}")
PER_THOUSAND = 1000
NOTHING = "(?!)"  # a pattern that matches nowhere: a profile without electronic words finds none
SUBJECT_FIELD_CHARS = 1500  # where a form's header fields stand ("Kegiatan : 2.16.03.1.02 Pengelolaan e-Government",
# "Nama SOP | Penetapan Tata Cara Layanan Data Center", "Perihal : Rapat Tim Koordinasi SPBE")
OFFICE_NAME_WORDS = 10  # "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia": an office's name after its kind
OFFICE_NAME_CHARS = OPENING_CHARS  # the letterhead and unit lines that say who writes stand at the top
OFFICE_NAME_GAP = " . "  # what stands in for an office's name: no phrase runs across it
# Lower-case words inside a capitalised name: "Dinas Tenaga Kerja dan Sertifikasi Kompetensi".
OFFICE_NAME_JOINERS = ("dan", "serta", "&")
HEADING_WORDS = 8  # a chapter, part or paragraph title after its marker, at most
SECTION_MARKER = r"(?:bab [ivxlc]+|bagian ke[a-z]+|paragraf \d+)"
# A title ends where the next section's marker or an article ("Pasal 30 Tim Koordinasi SPBE dibentuk ...") begins.
HEADING_WORD = rf"(?!{SECTION_MARKER}\s|pasal \d)\S+"
# "BAB IV ARSITEKTUR SPBE", "Bagian Ketiga Peta Rencana SPBE", "Paragraf 2 Pusat Data": one regulation, many subjects.
SECTION_HEADING = re.compile(
    rf"(?<![a-z0-9]){SECTION_MARKER}\s+((?:{HEADING_WORD}\s+){{0,{HEADING_WORDS - 1}}}{HEADING_WORD})"
)
# "35.screenshot LPSE.jpg", "1.a.Perwal.pdf", "16.b.SOP_DC.pdf", "[Indikator 42i] Screenshot ..."
FILENAME_INDICATOR = re.compile(r"^\s*\[?\s*(?:indikator\s*)?(\d{1,2})(?=[a-z]?[\]\s._-])", re.IGNORECASE)


@dataclass(frozen=True)
class PolicyScope:
    """A part of SPBE that a policy may regulate as a whole, and the indicators such a policy is evidence for: a
    Perwal on SPBE sets every Kebijakan Internal; a policy on Manajemen SPBE sets its management processes, by their
    Kebijakan Internal indicator where the framework has one (data, security), else by their practice indicator
    (risk, assets, competence, knowledge, change, service management have none)."""

    name: str  # "Manajemen SPBE": how the profile file and its errors call it
    subjects: tuple[str, ...]  # "manajemen spbe": a policy's subject that is, or starts with, one of them
    indicators: tuple[int, ...]


@dataclass(frozen=True)
class StructureMarkers:
    """From the profile file: heading words of an enacted policy, titles that are a policy by themselves, the
    scopes a policy may regulate as a whole (SPBE, Manajemen SPBE), the subjects of a regulation on an office's
    duties, the fields that name a form's subject, and the words that show an electronic service."""

    headings: tuple[str, ...]  # "peraturan", "keputusan", ...: confirmed by a number, a "tentang", a preamble
    titles: tuple[str, ...]  # "kebijakan internal": a policy by its title alone
    policy_scopes: tuple[PolicyScope, ...]  # SPBE as a whole, Manajemen SPBE, ...: the first whose subject matches
    organisation_subjects: tuple[str, ...]  # "kedudukan susunan organisasi": an office's duties, no SPBE evidence
    decree_headings: tuple[str, ...]  # "keputusan": an enacted act that carries its topic out as well as setting it
    subject_fields: tuple[str, ...]  # "kegiatan", "sub kegiatan": a budget sheet is about the activity it funds
    subject_field_ends: tuple[str, ...]  # first words of the fields after them: "waktu", "lokasi", "sumber"
    activity_fields: tuple[str, ...]  # "kegiatan", "sub kegiatan": what a budget sheet funds
    electronic_terms: tuple[str, ...]  # "aplikasi", "sistem informasi", "online": the document speaks of ICT
    electronic_prefixes: tuple[str, ...]  # "e-": e-kinerja, e-katalog, e-sakip
    electronic_per_thousand: float  # how many such words per 1,000 make a document about an electronic service
    spbe_terms: tuple[str, ...]  # "spbe": with the electronic words, what names SPBE or ICT
    spbe_min_mentions: int  # how many such mentions make a document on a generic topic one about SPBE
    spbe_per_thousand: float  # and how many per 1,000 words: a long document's stray mentions do not
    office_kinds: tuple[str, ...]  # "dinas", "badan", "sub bidang": how an office's name starts
    office_name_ends: tuple[str, ...]  # "kota", "jalan", "standar": where the name has ended
    office_kind_not_after: tuple[str, ...]  # "surat", "naskah": "Surat Dinas", "Tata Naskah Dinas" name no office

    @cached_property
    def electronic_words(self) -> re.Pattern[str]:
        """Every electronic term and prefixed word in one pattern: one pass over a document, each place once."""
        return words_pattern(self.electronic_terms, self.electronic_prefixes)

    @cached_property
    def spbe_words(self) -> re.Pattern[str]:
        """The words that name SPBE itself, counted on top of the electronic words (the two share no term)."""
        return words_pattern(self.spbe_terms, ())

    @cached_property
    def office_name(self) -> re.Pattern[str]:
        """An office's name as a letterhead or a unit line writes it, capitalised, from its kind to a punctuation
        mark, the region, an address or the document's own title: "Dinas Tenaga Kerja dan Sertifikasi Kompetensi |
        Kota Denpasar", "BADAN KEPEGAWAIAN ... MANUSIA Bidang Penilaian Kinerja Aparatur"; never prose ("di bidang
        teknologi informasi")."""
        kinds = "|".join(r"\s+".join(map(capitalised, kind.split())) for kind in self.office_kinds) or NOTHING
        ends = "|".join(map(re.escape, self.office_name_ends)) or NOTHING
        joiners = "|".join(map(re.escape, OFFICE_NAME_JOINERS))
        name_word = rf"(?!(?i:{ends})(?![A-Za-z0-9]))(?:[A-Z][^\s|:;,.()]*|(?:{joiners})(?=\s))"
        return re.compile(rf"(?<![A-Za-z0-9])(?:{kinds})(?:\s+{name_word}){{1,{OFFICE_NAME_WORDS}}}")

    @cached_property
    def annex_heading(self) -> re.Pattern[str]:
        """An annex heading, "LAMPIRAN I : PERATURAN BUPATI ... NOMOR 41", also as OCR joins ("LAMPIRANPERATURAN") or
        splits ("LAMPIRA N") it; group 1 is the policy's name up to its number, which no sentence end interrupts."""
        headings = "|".join(r"\s*".join(map(re.escape, heading.split())) for heading in self.headings) or NOTHING
        return re.compile(
            rf"(?<![a-z0-9])lampira\s*n(?:\s+(?:[ivxlc]+|\d{{1,2}}|[a-z]))?[\s:.]*(?:{headings})"
            rf"((?:\s+[^\s.]+){{0,{ANNEX_NAME_WORDS}}}?)\s+no(?:mor|\.)(?![a-z0-9])"
        )


@dataclass(frozen=True)
class DocumentStructure:
    title: str
    subject: str
    activities: str  # what its form's activity fields name: the activities a budget sheet funds
    headings: str  # the section titles of the whole document, joined
    is_policy: bool
    scope_indicators: tuple[int, ...]  # an enacted policy on a part of SPBE as a whole: the indicators it is evidence
    # for, each as far as it covers the indicator's topic (a Perwal on SPBE: every Kebijakan Internal)
    is_electronic: bool  # speaks of electronic systems often enough to document an electronic service
    is_organisation: bool  # a regulation on an office's position, structure, duties, functions (SOTK): no evidence
    is_policy_only: bool  # a policy that is no decree and holds no annex: it sets a policy and shows none carried out
    # an enacted policy whose heading names another government than the deployment's region (a Perpres, a Permen,
    # another city's Perwal): evidence for that government, not this one (never so when no region is given)
    issued_elsewhere: bool
    names_spbe: bool  # names SPBE or ICT often enough for a team, a risk register or a training to be SPBE's own
    office_names: str  # the offices its top names (its letterhead, its unit, the issuer), joined
    content: str  # its words without those names: what it says, not who says it
    announced: str  # its title and form fields without those names: what it says it is about (a report's subject is
    # its first words and fields; read from the title, a name the subject's 20 words cut short is still blanked whole)
    filename_indicator: int | None


def read_structure(
    text: str, filename: str, markers: StructureMarkers, indicators: range, region: str = ""
) -> DocumentStructure:
    """Title (opening words), subject, section headings, policy form (and whether `region`, the deployment's
    government, issued it), whether it shows an electronic service, whether it is on an office's duties, and a
    file-name indicator number if the framework has it."""
    opening = opening_words(text, markers)
    number = filename_indicator(filename)
    fields = field_values(text[:SUBJECT_FIELD_CHARS], (*markers.subject_fields, *markers.activity_fields), markers)
    named_in_fields = joined_values(fields, markers.subject_fields)
    titled = after_policy_title(opening, markers)
    clause = subject(opening, titled, named_in_fields, markers)
    heading = policy_heading(" ".join(opening[:POLICY_MARKER_WITHIN]), markers)
    policy = is_policy(opening, titled, heading)
    lowered = text.lower()
    tokens = len(words(lowered))
    ict_mentions = mentions(lowered, markers.electronic_words)
    names, content = office_names(text, markers)
    return DocumentStructure(
        title=" ".join(opening),
        subject=clause,
        activities=joined_values(fields, markers.activity_fields),
        headings=" | ".join(dict.fromkeys(SECTION_HEADING.findall(lowered))),
        is_policy=policy,
        scope_indicators=policy_scope(clause, markers) if policy else (),
        is_electronic=is_electronic(ict_mentions, tokens, markers),
        is_organisation=policy and opens_with(clause, markers.organisation_subjects),
        is_policy_only=policy and heading not in markers.decree_headings and not holds_annex(lowered, markers),
        issued_elsewhere=policy and bool(region) and not names_region(issuer_words(text, opening, markers), region),
        names_spbe=names_spbe(ict_mentions + mentions(lowered, markers.spbe_words), tokens, markers),
        office_names=" | ".join(names),
        content=content,
        announced=without_names(f"{' '.join(opening)} {named_in_fields}", names),
        filename_indicator=number if number in indicators else None,
    )


def office_names(text: str, markers: StructureMarkers) -> tuple[list[str], str]:
    """The offices a document's top names (its letterhead, its unit, the issuer), and its words without them, both
    lower-cased: who writes, and what is written."""
    names: list[str] = []
    content: list[str] = []
    written = 0
    for found in markers.office_name.finditer(text[:OFFICE_NAME_CHARS]):
        before = words(text[max(0, found.start() - WORD_BEFORE_CHARS) : found.start()])
        if before and before[-1] in markers.office_kind_not_after:
            continue
        names.append(found.group(0))
        content += [text[written : found.start()], OFFICE_NAME_GAP]
        written = found.end()
    content.append(text[written:])
    return [name.lower() for name in names], "".join(content).lower()


def without_names(opening: str, names: list[str]) -> str:
    """Opening words (as words() gives them) with each office's name blanked: "badan kepegawaian ... sop
    verifikasi simpeg" announces an SOP on SIMPEG, not on what the office that writes it is named for."""
    for name in sorted(names, key=len, reverse=True):  # a unit's longer name before the office's name inside it
        name_words = r"\s+".join(map(re.escape, words(name)))
        if name_words:
            opening = re.sub(rf"(?<![a-z0-9]){name_words}(?![a-z0-9])", OFFICE_NAME_GAP, opening)
    return opening


def capitalised(word: str) -> str:
    """A word as a heading writes it: "Dinas" or "DINAS"."""
    return f"(?:{re.escape(word.capitalize())}|{re.escape(word.upper())})"


def issuer_words(text: str, opening: list[str], markers: StructureMarkers) -> list[str]:
    """The words that say who enacted a policy: its opening (letterhead and heading); for a circular, its letterhead
    before the addressees and its heading on, not the addressees a ministry writes to ("Yth. Wali Kota
    Banjarmasin ... di Banjarmasin")."""
    tokens = words(text[:ADDRESSED_OPENING_CHARS])
    if ADDRESSEE_OPENING not in tokens[:POLICY_MARKER_WITHIN]:
        return opening
    letterhead = tokens[: tokens.index(ADDRESSEE_OPENING)]
    head = " ".join(opening)
    found = [match.start() for marker in markers.headings if (match := phrase_pattern(marker, joined=True).search(head))]
    return [*letterhead, *head[min(found, default=0):].split()]  # from the heading on, past the addressees' seat


def names_region(tokens: list[str], region: str) -> bool:
    """Whether the words name the region, as OCR may have read it: whole words spell it, also spaced out or split
    ("Hulu Sungai Selatan", "B A N J A R M A S I N"), or run together with a title ("WALIKOTABANJARMASIN"); or, for a
    name long enough to tell a slip from another word, a run of as many words nearly is it ("BANJARMASlN"). Never a
    part of a longer word ("Pati" in "BUPATI") or a neighbour's name that shares its start ("Banjarbaru")."""
    name = " ".join(words(region))
    spelt = name.replace(" ", "")
    for start, token in enumerate(tokens):
        run = ""
        for following in tokens[start:]:
            run += following
            if len(run) >= len(spelt):
                break
        if run == spelt or (token.endswith(spelt) and is_issuer_title(token[: -len(spelt)])):
            return True
    size = len(name.split())
    return len(spelt) >= FUZZY_NAME_CHARS and any(
        SequenceMatcher(None, " ".join(tokens[start : start + size]), name).ratio() >= REGION_NAME_SIMILARITY
        for start in range(len(tokens) - size + 1)
    )


def is_issuer_title(text: str) -> bool:
    """Whether OCR ran these words of a government's title together ("walikota", "pemerintahkota")."""
    while text:
        title = next((word for word in ISSUER_TITLES if text.startswith(word)), None)
        if title is None:
            return False
        text = text[len(title):]
    return True


def filename_indicator(filename: str) -> int | None:
    """The indicator number an upload's own name starts with ("35.screenshot LPSE.jpg"); not a folder's, whose
    numbers are as often months and dates ("05-2024/")."""
    found = FILENAME_INDICATOR.match(filename.rsplit("/", 1)[-1])
    return int(found.group(1)) if found else None


def opening_words(text: str, markers: StructureMarkers) -> list[str]:
    """The document's first words from its heading on: past a circular's addressees (when a policy heading follows
    their closing "di Tempat" or "di" and its seat) and past a copy stamp."""
    tokens = words(text[:ADDRESSED_OPENING_CHARS])
    if ADDRESSEE_OPENING in tokens[:POLICY_MARKER_WITHIN]:
        tokens = past_addressees(tokens, markers)
    if tokens[:1] == [COPY_STAMP]:
        tokens = tokens[1:]
    return tokens[:TITLE_WORDS]


def past_addressees(tokens: list[str], markers: StructureMarkers) -> list[str]:
    """The words after the closing "di Tempat" (or "di" and the seat's name) of a circular's addressees, when a policy
    heading follows it; else all of them. A "di" after the heading is the body's ("disimpan di tempat kerja")."""
    start = tokens.index(ADDRESSEE_OPENING)
    for place in range(start + 1, min(len(tokens), start + ADDRESSEE_WORDS)):
        if tokens[place] != ADDRESSEE_CLOSING:
            continue
        if policy_heading(" ".join(tokens[start:place]), markers) is not None:
            break
        after = tokens[place + 1:]
        if after[:1] == [ADDRESSEE_PLACE]:
            after = after[1:]
        if policy_heading(" ".join(after[:POLICY_MARKER_WITHIN]), markers) is not None:
            return after
    return tokens


def is_policy(opening: list[str], titled: list[str] | None, heading: str | None) -> bool:
    """An enacted regulation, decree or circular, not a report citing one (even in its first lines, under its own
    heading "Laporan ...") or the annex of one; titled: the words after a policy title that heads the opening, if
    one does; heading: the policy heading word that heads it, if one does."""
    if not opening or "".join(opening[:2]).startswith(ATTACHMENT_OPENING):  # OCR splits words: "LAMPIRA N"
        return False
    if opening[0] in REPORT_OPENINGS:
        return False
    if titled is not None:
        return True
    return heading is not None and any(word in opening for word in POLICY_CONFIRMATION)


def policy_heading(head: str, markers: StructureMarkers) -> str | None:
    """The first policy heading word in these words ("keputusan", "peraturan"), unless the document cites it
    rather than being headed by it ("Berdasarkan Keputusan Bupati ... , Keputusan tersebut ..." opens a news item)."""
    found = [
        (match.start(), marker)
        for marker in markers.headings
        if (match := phrase_pattern(marker, joined=True).search(head))
    ]
    if not found:
        return None
    start, marker = min(found)
    before = head[:start].split()
    return marker if not before or before[-1] not in CITING_WORDS else None


def holds_annex(lowered: str, markers: StructureMarkers) -> bool:
    """Whether the (lower-cased) document holds a policy's annex under its heading, rather than citing one
    ("tercantum dalam Lampiran Peraturan Presiden Nomor 95", "sesuai Lampiran Peraturan Wali Kota ini")."""
    for found in markers.annex_heading.finditer(lowered):
        before = lowered[max(0, found.start() - WORD_BEFORE_CHARS) : found.start()].split()
        if (not before or before[-1] not in CITING_WORDS) and SELF_REFERENCE not in found.group(1).split():
            return True
    return False


def subject(opening: list[str], titled: list[str] | None, fields: str, markers: StructureMarkers) -> str:
    """A titled policy's name ("KEBIJAKAN INTERNAL MANAJEMEN SPBE 11.1 Dasar Hukum 1. Peraturan Presiden ... tentang
    Sistem Pemerintahan Berbasis Elektronik" is on SPBE management, not on what the Perpres it cites is on); else a
    regulation's "tentang ..." clause; else the first words, where a report or manual names itself, with the
    activity a form's fields name ("Kegiatan : ... LPSE"): a budget sheet is about what it funds. titled: the words
    after a policy title that heads the opening, if one does."""
    if named := titled_subject(titled, markers):
        return named
    if SUBJECT_OPENING in opening:
        return clause(opening[opening.index(SUBJECT_OPENING) + 1 :])
    return " ".join((*opening[:SUBJECT_WORDS], fields)).strip()


def after_policy_title(opening: list[str], markers: StructureMarkers) -> list[str] | None:
    """The words after a self-evident policy title ("KEBIJAKAN INTERNAL", also as OCR joins it) that heads the
    document, after a chapter number at most; None when none heads it: "Laporan evaluasi kebijakan internal SPBE"
    is a report."""
    title = " ".join(opening[:POLICY_TITLE_WITHIN])
    for marker in markers.titles:
        found = phrase_pattern(marker, joined=True).search(title)
        if found and all(LIST_NUMERAL.fullmatch(word) for word in title[: found.start()].split()):
            return " ".join(opening)[found.end() :].split()
    return None


def titled_subject(following: list[str] | None, markers: StructureMarkers) -> str:
    """What a heading policy title names (following: the words after it), up to its first section ("Dasar Hukum",
    "11.1"); empty when no title heads the document or its name is a "tentang" clause or a policy of its own
    ("KEBIJAKAN INTERNAL PERATURAN BUPATI ... TENTANG ..."), which the "tentang" clause names."""
    if not following or LIST_NUMERAL.fullmatch(following[0]) or following[0] == SUBJECT_OPENING:
        return ""
    if any(" ".join(following).startswith(heading) for heading in markers.headings):
        return ""
    return clause(following, SUBJECT_ENDS | SECTION_OPENINGS)


def clause(following: list[str], ends: frozenset[str] = SUBJECT_ENDS) -> str:
    """A subject from the words that follow its opening, up to one of the ends (the enacting office, the preamble
    or the body) or a list's next item."""
    words_of_clause: list[str] = []
    for word in following[:SUBJECT_WORDS]:
        if (word in ends or LIST_NUMERAL.fullmatch(word)) and words_of_clause:
            break
        words_of_clause.append(word)
    return " ".join(words_of_clause)


def field_values(header_text: str, fields: tuple[str, ...], markers: StructureMarkers) -> dict[str, str]:
    """The first value of each of these form fields that has one, after a colon or in the next table cell, without
    codes: "Kegiatan : 2.10.2.10.01.065.001. - LPSE Waktu Pelaksanaan : ..." gives {"kegiatan": "lpse"}."""
    values: dict[str, str] = {}
    for field in dict.fromkeys(fields):
        label = r"\s+".join(re.escape(part) for part in field.split())  # "Nama\nSOP" as well as "Nama SOP"
        for found in re.finditer(rf"(?<![a-z0-9]){label}\s*[:|](?=([^:|]*))", header_text.lower()):
            value: list[str] = []
            for word in words(found.group(1)):
                if word in markers.subject_field_ends or len(value) == SUBJECT_WORDS:
                    break
                if not word[0].isdigit():  # activity codes and dates name no subject
                    value.append(word)
            if value:  # a field cut at a chunk's end is read again where the next chunk repeats it
                values[field] = " ".join(value)
                break
    return values


def joined_values(values: dict[str, str], fields: tuple[str, ...]) -> str:
    """What these fields name, each value once ("Sub Kegiatan : X" is read by "kegiatan" too)."""
    return " ".join(dict.fromkeys(values[field] for field in fields if field in values))


def is_electronic(ict_mentions: int, tokens: int, markers: StructureMarkers) -> bool:
    """Whether ICT words are frequent enough in a document of so many words to show an electronic service: a
    counter-service SOP, a paper complaint box or the archives law names the service's subject but no system that
    delivers it."""
    return tokens > 0 and ict_mentions * PER_THOUSAND >= markers.electronic_per_thousand * tokens


def names_spbe(found: int, tokens: int, markers: StructureMarkers) -> bool:
    """Whether a document of so many words names SPBE or ICT (found times) often enough, and densely enough, to be
    about it: an e-signature footer or a regulation's one "aplikasi" in 5,000 words does not make another team's
    work the SPBE team's."""
    return found >= markers.spbe_min_mentions and found * PER_THOUSAND >= markers.spbe_per_thousand * tokens


def mentions(lowered: str, pattern: re.Pattern[str]) -> int:
    return sum(1 for _ in pattern.finditer(lowered))


def words_pattern(terms: tuple[str, ...], prefixes: tuple[str, ...]) -> re.Pattern[str]:
    """Terms and prefixed words in one pattern, longest term first, so that each place is found once ("SP4N-LAPOR"
    is not also "LAPOR", "e-government" not also an "e-" word, "sistem pemerintahan berbasis elektronik" not also
    "elektronik")."""
    longest_first = sorted(terms, key=len, reverse=True)
    phrases = [r"\s+".join(map(re.escape, term.split())) for term in longest_first]
    prefixed = [rf"{re.escape(prefix)}[a-z0-9]+" for prefix in prefixes]
    alternatives = "|".join(phrases + prefixed) or NOTHING
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])")


def policy_scope(subject: str, markers: StructureMarkers) -> tuple[int, ...]:
    """The indicators of the first scope whose subject this policy's subject is or starts with; none if no scope's."""
    return next((scope.indicators for scope in markers.policy_scopes if opens_with(subject, scope.subjects)), ())


def opens_with(subject: str, phrases: tuple[str, ...]) -> bool:
    """Whether the subject is one of the phrases or starts with one, word for word: "penyelenggaraan SPBE di ..." is
    SPBE as a whole, "tim koordinasi SPBE" one part of it; "organisasi dan tata kerjanya" is no phrase."""
    return any(subject == phrase or subject.startswith(f"{phrase} ") for phrase in phrases)
