"""A synthetic encyclopedic world for fast, offline few-shot QA experiments (the quickstart).

Invented people, cities, countries, organisations and awards (names built from syllables, so
they are not real and split into subwords) whose facts are rendered as short biographies in
several styles. Names, places and years recur inside a passage, which is what recurring span
selection (RSS) pretraining learns from, and questions word facts differently than passages do.

    data = make_quickstart_data(seed=0)   # {"pretrain_texts", "train", "eval"}

Randomness comes only from explicitly seeded ``random.Random`` objects (no set iteration, no
``hash()``), so the output is identical across runs and Python processes.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass, replace

_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
           "br", "dr", "kr", "gr", "st", "tr", "sh", "th")
_VOWELS = ("a", "e", "i", "o", "u", "a", "e", "o", "ai", "ei", "ou")
_CODAS = ("", "", "", "", "n", "r", "l", "s", "m", "nd", "rk", "th")

_PROFESSIONS = ["chemist", "physicist", "botanist", "astronomer", "geologist", "physician",
                "zoologist", "painter", "composer", "sculptor", "novelist", "poet",
                "photographer", "violinist", "architect", "engineer", "inventor", "shipbuilder",
                "surveyor", "glassmaker", "cartographer", "historian", "linguist", "philosopher",
                "economist", "journalist", "lawyer", "diplomat"]
_FIELDS = ["organic chemistry", "optics", "plant genetics", "star catalogues", "volcanic rocks",
           "public health", "number theory", "bird migration", "folk music", "portrait painting",
           "stage design", "stone carving", "short fiction", "opera", "bridge design",
           "steam engines", "river navigation", "glass lenses", "coastal maps", "railway signals",
           "ancient history", "phonetics", "logic", "trade policy", "local politics",
           "maritime law", "peace treaties", "early education"]
_ORG_KINDS = ("Institute", "Laboratory", "Observatory", "Society", "Records", "Gallery", "Theatre",
              "Press", "Works", "Company", "Foundry", "Academy", "Library", "Review", "College")

# {X}/{Xs}/{Xo}: the subject (as subject/possessive/object) by full name, surname or pronoun,
# capitalised at the start of a sentence; {P}/{Ps}: always the full name; {he}/{his}/{him}:
# pronouns; {a}: "a" or "an" before the profession. Other slots are facts; {~slot} mentions a
# fact without stating it, so that occurrence is never used as an answer.
_BANKS = {
    "lead": ("{P} ({birth_year} - {death_year}) was {a} {profession} from {country}.",
             "{P} was {a} {profession} known for work in {field}.",
             "{P} was {a} {profession} born in {birth_city}.",
             "{P} was {a} {profession} from {country} who worked in {field}."),
    "obit": ("{P}, {a} {profession} from {country}, died in {death_city} in {death_year}.",
             "{P} died in {death_year} in {death_city}, aged {age}.",
             "{P}, who died in {death_city} in {death_year}, was {a} {profession}."),
    "ib_head": ("{P}. Born: {birth_city}, {country}, {birth_year}.",
                "{P}. Born: {birth_year}, {birth_city}."),
    "ib_died": ("Died: {death_city}, {death_year}.",),
    "ib_job": ("Occupation: {profession}.", "Occupation: {profession} ({field})."),
    "ib_spouse": ("Spouse: {spouse}.",),
    "ib_award": ("Awards: {award} ({award_year}).",),
    "birth": ("{X} was born in {birth_city}, {country}, in {birth_year}.",
              "{X} was born in {birth_year} in {birth_city}.",
              "Born in {birth_city} in {birth_year}, {X} grew up in {country}.",
              "{X} came from {birth_city}, where {he} was born in {birth_year}.",
              "{Xs} birthplace was {birth_city}, a city in {country}."),
    "birth_again": ("{birth_city}, the city of {Xs} birth, later named a street after {Xo}.",
                    "{X} often returned to {~birth_city}, {his} home town.",
                    "To this day, {birth_city} honours {Xo} as its most famous native.",
                    "{X} kept a house in {~birth_city} all {his} life."),
    "profession": ("{X} worked as {a} {profession}, mostly in {field}.",
                   "By training {X} was {a} {profession}.",
                   "{X} became {a} {profession} and specialised in {field}.",
                   "As {a} {profession}, {X} was best known for {his} work in {field}."),
    "employer": ("In {join_year}, {X} joined the {employer} in {employer_city}.",
                 "{X} became a member of the {employer} in {join_year}.",
                 "From {join_year}, {X} worked for the {employer}.",
                 "{X} spent many years at the {employer}, based in {employer_city}."),
    "employer_again": ("At the {~employer}, {X} met {~collaborator}.",
                       "The {~employer} later published {Xs} papers on {~field}."),
    "founded": ("In {found_year}, {X} founded the {founded}.",
                "{X} established the {founded} in {found_year}.",
                "The {founded} was founded by {Xo} in {found_year}.",
                "{X} went on to create the {founded}, which opened in {found_year}."),
    "founded_again": ("Under {Xs} direction, the {~founded} grew quickly.",
                      "{X} led the {~founded} until {his} death.",
                      "The {~founded} still keeps {Xs} notebooks."),
    "spouse": ("{X} married {spouse} in {marriage_year}.",
               "In {marriage_year}, {X} married {spouse}.", "{Xs} spouse was {spouse}.",
               "{X} was married to {spouse}."),
    "spouse_again": ("{~spouse} often travelled with {Xo}.",
                     "{X} and {~spouse} had {children} children.",
                     "After {Xs} death, {~spouse} edited {his} letters."),
    "collab": ("{X} worked closely with {collaborator}.",
               "Together with {collaborator}, {X} published several studies on {~field}.",
               "{collaborator} was a long-time collaborator of {Xo}.",
               "{X} collaborated with {collaborator} for many years."),
    "move": ("In {move_year}, {X} moved to {move_city}.",
             "{X} left {~birth_city} for {move_city} in {move_year}.",
             "{X} settled in {move_city} in {move_year}.",
             "Later in life, {X} relocated to {move_city}."),
    "award": ("{X} received the {award} in {award_year}.",
              "In {award_year}, {X} was awarded the {award}.",
              "{X} won the {award} for {his} work in {~field}."),
    "award_again": ("The {~award} made {Xo} famous across {~country}.",
                    "{X} called the {~award} the high point of {his} career."),
    "death": ("{X} died in {death_city} in {death_year}.",
              "{X} died in {death_year} in {death_city}, at the age of {age}.",
              "{X} spent {his} last years in {death_city}, where {he} died in {death_year}.",
              "In {death_year}, {X} died in {death_city}."),
}

# style -> ordered banks, each with its probability of being included (1 if not given);
# "<bank>_again" restates facts of <bank> and only follows it.
_STYLES = {
    "chronological": "lead birth profession:.6 employer:.6 collab:.4 founded:.6 move:.7 "
                     "spouse:.6 award:.5 death:.9 birth_again:.4",
    "restated": "lead birth birth_again profession:.4 employer:.5 employer_again:.6 founded:.6 "
                "founded_again spouse:.6 spouse_again:.8 collab:.3 move:.5 award:.5 "
                "award_again:.8 death:.7",
    "obituary": "obit birth profession:.5 move:.7 employer:.5 founded:.6 award:.5 spouse:.6 "
                "spouse_again:.5 collab:.4",
    "infobox": "ib_head ib_died:.8 ib_job:.8 ib_spouse:.6 ib_award:.4 lead employer:.6 "
               "founded:.6 move:.6 collab:.5 birth_again:.5",
    "thematic": "lead profession collab:.5 employer:.6 employer_again:.5 award:.6 "
                "award_again:.5 founded:.6 founded_again:.6 birth move:.6 spouse:.6 death:.7",
}
_STYLES = {k: tuple((b, float(p or 1)) for b, _, p in (x.partition(":") for x in v.split()))
           for k, v in _STYLES.items()}
BIO_STYLES = tuple(_STYLES)

_QUESTIONS = {
    "birth_city": ("Where was {P} born?", "In which city was {P} born?",
                   "What is the birthplace of {P}?", "{P} was born in which city?"),
    "birth_year": ("In what year was {P} born?", "When was {P} born?",
                   "What is {Ps} year of birth?"),
    "country": ("In which country was {P} born?", "Which country did {P} come from?",
                "What country is {P} from?"),
    "profession": ("What was {Ps} profession?", "What did {P} work as?",
                   "What was the occupation of {P}?"),
    "field": ("In which field did {P} work?", "What area did {P} specialise in?",
              "What was {Ps} field of work?"),
    "employer": ("Which organisation did {P} join?", "Which organisation employed {P}?",
                 "What organisation did {P} become a member of?"),
    "founded": ("Which organisation did {P} found?", "What did {P} establish?",
                "What organisation was founded by {P}?"),
    "spouse": ("Who was {P} married to?", "Who did {P} marry?", "Who was the spouse of {P}?"),
    "collaborator": ("Who did {P} collaborate with?", "Who was {Ps} collaborator?",
                     "With whom did {P} work closely?"),
    "move_city": ("To which city did {P} move?", "Where did {P} relocate to?",
                  "Which city did {P} settle in after leaving {birth_city}?"),
    "award": ("Which award did {P} receive?", "What prize was {P} awarded?",
              "What honour did {P} win?"),
    "death_city": ("Where did {P} die?", "In which city did {P} die?",
                   "What was the place of death of {P}?"),
    "death_year": ("In what year did {P} die?", "When did {P} die?", "What year did {P} pass away?"),
}
RELATIONS = tuple(_QUESTIONS)

_SLOT = re.compile(r"\{(~?)(\w+)\}")
# reference slot -> grammatical role; pronoun slots always render as pronouns
_REFS = {"X": "X", "Xs": "Xs", "Xo": "Xo", "P": "X", "Ps": "Xs", "he": "X", "his": "Xs",
         "him": "Xo"}
_PRONOUNS = {"m": {"X": "he", "Xs": "his", "Xo": "him"},
             "f": {"X": "she", "Xs": "her", "Xo": "her"}}


def _compile(template: str) -> tuple:
    """-> ((literal, slot, stated), ...), tail literal, relations stated, slots needed."""
    parts, pos = [], 0
    for m in _SLOT.finditer(template):
        parts.append((template[pos:m.start()], m.group(2), not m.group(1)))
        pos = m.end()
    stated = frozenset(s for _, s, ok in parts if ok and s in _QUESTIONS)
    return tuple(parts), template[pos:], stated, frozenset(s for _, s, _ in parts)


_COMPILED = {bank: tuple(_compile(t) for t in ts) for bank, ts in _BANKS.items()}
_BANK_STATES = {b: frozenset().union(*(c[2] for c in cs)) for b, cs in _COMPILED.items()}
# Generated names must never be words of the templates (e.g. a surname "Born").
_RESERVED = frozenset(w.lower() for ts in [*_BANKS.values(), *_QUESTIONS.values()] for t in ts
                      for w in re.findall(r"[A-Za-z]+", t))


@dataclass(frozen=True)
class City:
    name: str
    country: str


@dataclass(frozen=True)
class Organisation:
    name: str
    city: City


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    gender: str  # "m" or "f", for pronouns
    profession: str
    field: str
    birth_city: City
    birth_year: int
    employer: Organisation
    join_year: int
    founded: Organisation | None
    found_year: int | None
    spouse: str
    marriage_year: int
    collaborator: str
    move_city: City
    move_year: int
    award: str
    award_year: int
    death_city: City
    death_year: int

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    def facts(self) -> dict[str, str]:
        """Slot name -> surface text, for passages and questions."""
        f = {k: getattr(v, "name", str(v)) for k, v in vars(self).items() if v is not None}
        f.update(P=self.name, Ps=self.name + "'s", country=self.birth_city.country,
                 employer_city=self.employer.city.name, age=str(self.death_year - self.birth_year),
                 a="an" if self.profession[0] in "aeiou" else "a",
                 children=("two", "three", "four", "five")[self.marriage_year % 4])
        return f


@dataclass
class World:
    """People and the gazetteer they live in; sub-worlds from `split` share the gazetteer."""

    seed: int
    people: list[Person]
    cities: list[City]
    organisations: list[Organisation]  # employers shared by many people
    awards: list[str]

    @classmethod
    def generate(cls, seed: int, num_people: int) -> World:
        if num_people < 1:
            raise ValueError(f"num_people must be at least 1, got {num_people}.")
        rng = random.Random(seed)
        used = set(_RESERVED)

        def word(syllables: tuple[int, int] = (2, 3), suffixes=("",)) -> str:
            """A new invented capitalised word, never handed out twice in this world."""
            while True:
                w = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
                            for _ in range(rng.randint(*syllables)))
                w = (w + rng.choice(suffixes)).capitalize()
                if 4 <= len(w) <= 14 and w.lower() not in used:
                    used.add(w.lower())
                    return w

        countries = [word((2, 2), ("ia", "land", "ria", "stan", "ora"))
                     for _ in range(max(6, min(40, num_people // 150)))]
        cities = [City(word(suffixes=("", "", "", "heim", "vale", "port", "grad", "ova")),
                       rng.choice(countries)) for _ in range(max(12, num_people // 25))]
        employers = [Organisation(f"{word((2, 2))} {rng.choice(_ORG_KINDS)}", rng.choice(cities))
                     for _ in range(max(12, num_people // 8))]
        awards = [f"{word()} {rng.choice(('Prize', 'Medal', 'Award'))}"
                  for _ in range(max(8, num_people // 40))]
        first_names = [word((2, 2), ("", "", "a", "o", "in")) for _ in range(300)]

        def other_city(*avoid: City) -> City:
            city = rng.choice(cities)
            return city if city not in avoid else other_city(*avoid)

        def someone() -> str:
            return f"{rng.choice(first_names)} {word(suffixes=('', '', '', 'sen', 'ov', 'ez'))}"

        people = []
        for _ in range(num_people):
            first, last = someone().split(" ")
            birth_city = rng.choice(cities)
            move_city = other_city(birth_city)
            born = rng.randint(1780, 1900)
            # Distinct offsets, so no two years in one biography are equal.
            join, found, married, moved, awarded = (born + o for o in rng.sample(range(18, 62), 5))
            join, found = min(join, found), max(join, found)
            founded = (Organisation(f"{word()} {rng.choice(_ORG_KINDS)}", rng.choice(cities))
                       if rng.random() < 0.5 else None)
            people.append(Person(
                first, last, rng.choice("mf"), rng.choice(_PROFESSIONS), rng.choice(_FIELDS),
                birth_city, born, rng.choice(employers), join, founded,
                found if founded else None, someone(), married, someone(), move_city, moved,
                rng.choice(awards), awarded,
                move_city if rng.random() < 0.5 else other_city(birth_city),
                max(join, found, married, moved, awarded) + rng.randint(3, 30)))
        return cls(seed, people, cities, employers, awards)

    def split(self, sizes: list[int]) -> list[World]:
        """Disjoint consecutive groups of people (e.g. pretraining / train / eval)."""
        if sum(sizes) > len(self.people):
            raise ValueError(f"Cannot split {len(self.people)} people into groups of {sizes}.")
        bounds = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
        return [replace(self, people=self.people[a:b]) for a, b in itertools.pairwise(bounds)]


@dataclass
class Passage:
    text: str
    spans: dict[str, int]  # relation -> character offset of its first stated occurrence
    style: str


def render_biography(person: Person, rng: random.Random, style: str | None = None,
                     require: str | None = None) -> Passage:
    """A biography of ``person`` in ``style`` (random if None) that states ``require``."""
    style = style or rng.choice(BIO_STYLES)
    facts = person.facts()
    available = facts.keys() | _REFS.keys()
    must = None if require is None else next(
        b for b, _ in _STYLES[style] if require in _BANK_STATES[b])
    mode = rng.choice(("pronoun", "surname", "name", "mixed"))
    text, spans, included, introduced = "", {}, set(), False
    for bank, prob in _STYLES[style]:
        if (bank.endswith("_again") and bank[:-6] not in included) or (
                bank != must and rng.random() >= prob):
            continue
        options = [c for c in _COMPILED[bank] if c[3] <= available
                   and (bank != must or require in c[2])]
        if not options:
            continue
        included.add(bank)
        parts, tail, _, _ = rng.choice(options)
        text += " " if text else ""
        start = len(text)
        for literal, slot, stated in parts:
            text += literal
            if slot not in _REFS:
                if stated and slot in _QUESTIONS and slot not in spans:
                    spans[slot] = len(text)
                text += facts[slot]
                continue
            role = _REFS[slot]
            how = "pronoun" if slot in ("he", "his", "him") else "name"
            if slot.startswith("X") and introduced:
                how = rng.choice(("pronoun", "surname", "name")) if mode == "mixed" else mode
                if how == "pronoun" and rng.random() < 0.3:
                    how = "name"  # keep some full-name mentions: they are the recurring spans
            introduced = introduced or how == "name"
            value = (_PRONOUNS[person.gender][role] if how == "pronoun" else
                     (person.name if how == "name" else person.last) + ("'s" * (role == "Xs")))
            text += value[0].upper() + value[1:] if len(text) == start else value
        text += tail
    return Passage(text, spans, style)


# Passages about an organisation or a city and several of its people (pretraining only).
_GROUP_LINES = {
    "org": ("{P}, {a} {profession} from {birth_city}, joined the {employer} in {join_year}.",
            "{P} came to the {employer} in {join_year} and worked on {field}.",
            "In {join_year}, {P} became a member of the {employer}."),
    "org_close": ("{last} later left the {employer} and moved to {move_city}.",
                  "The {employer} keeps an archive of {Ps} work on {field}."),
    "city": ("{P} was born in {birth_city} in {birth_year} and later moved to {move_city}.",
             "{P}, born in {birth_city} in {birth_year}, became {a} {profession}.",
             "{P} grew up in {birth_city} before joining the {employer}."),
    "city_close": ("{birth_city} has a small museum devoted to {P}.",
                   "A square in {birth_city} is named after {last}."),
}


def _group_passage(rng: random.Random, kind: str, people: list[Person]) -> str:
    chosen = rng.sample(people, min(len(people), rng.randint(2, 4)))
    if kind == "org":
        org = chosen[0].employer
        head = f"The {org.name} is based in {org.city.name}, {org.city.country}."
    else:
        head = f"{chosen[0].birth_city.name} is a city in {chosen[0].birth_city.country}."
    names = [p.name for p in chosen]
    sentences = [head, f"People linked to it include {', '.join(names[:-1])} and {names[-1]}."]
    sentences += [rng.choice(_GROUP_LINES[kind]).format(**p.facts()) for p in chosen]
    sentences.append(rng.choice(_GROUP_LINES[kind + "_close"]).format(**chosen[0].facts()))
    return " ".join(sentences)


def pretraining_corpus(world: World, num_passages: int, seed: int,
                       bio_fraction: float = 0.8) -> list[str]:
    """Plain passages for RSS: biographies of random ``world.people`` (several per person, in
    different styles), plus organisation and city passages that mention several of them."""
    rng = random.Random(seed)
    groups: dict[str, dict[str, list[Person]]] = {"org": {}, "city": {}}
    for p in world.people:
        groups["org"].setdefault(p.employer.name, []).append(p)
        groups["city"].setdefault(p.birth_city.name, []).append(p)
    pools = {k: [v for v in g.values() if len(v) >= 2] for k, g in groups.items()}
    texts = []
    for _ in range(num_passages):
        r = rng.random()
        kind = "bio" if r < bio_fraction else "org" if r < (1 + bio_fraction) / 2 else "city"
        if kind == "bio" or not pools[kind]:
            texts.append(render_biography(rng.choice(world.people), rng).text)
        else:
            texts.append(_group_passage(rng, kind, rng.choice(pools[kind])))
    return texts


def qa_examples(world: World, num_examples: int, seed: int, id_prefix: str = "q") -> list[dict]:
    """SQuAD-format examples, one fresh biography each. People are taken in order (repeating
    only after all were used); relations come in shuffled rounds, so the first K examples cover
    them evenly."""
    rng = random.Random(seed)
    examples, queue = [], []
    for i in range(num_examples):
        person = world.people[i % len(world.people)]
        if not queue:
            queue = rng.sample(RELATIONS, len(RELATIONS))
        options = [r for r in queue if r != "founded" or person.founded is not None]
        if options:
            relation = options[0]
            queue.remove(relation)
        else:  # only "founded" is left in this round and this person founded nothing
            relation = rng.choice([r for r in RELATIONS if r != "founded"])
        passage = render_biography(person, rng, require=relation)
        facts = person.facts()
        examples.append({
            "id": f"{id_prefix}-{i:05d}", "title": person.name, "context": passage.text,
            "question": rng.choice(_QUESTIONS[relation]).format(**facts),
            "answers": {"text": [facts[relation]], "answer_start": [passage.spans[relation]]},
        })
    return examples


def make_quickstart_data(seed: int = 0, num_pretrain_passages: int = 20000,
                         num_pretrain_people: int = 5000, num_train: int = 1024,
                         num_eval: int = 500) -> dict[str, list]:
    """RSS pretraining passages, a QA train pool (take the first K) and QA eval examples, about
    three disjoint groups of people, so no QA passage or person is seen in pretraining."""
    world = World.generate(seed, num_pretrain_people + num_train + num_eval)
    pre, train, held_out = world.split([num_pretrain_people, num_train, num_eval])
    return {
        "pretrain_texts": pretraining_corpus(pre, num_pretrain_passages, seed=seed + 1),
        "train": qa_examples(train, num_train, seed=seed + 2, id_prefix="train"),
        "eval": qa_examples(held_out, num_eval, seed=seed + 3, id_prefix="eval"),
    }
