"""A synthetic encyclopedic world for fast, offline few-shot QA experiments (the quickstart).

Invented people, cities, countries, organisations and awards (names built from syllables, so
they are not real and split into several subwords) with facts rendered as short biographies in
several styles. Names, places and years recur inside a passage, which is what recurring span
selection (RSS) pretraining learns from, and questions word facts differently than passages do.

    data = make_quickstart_data(seed=0)
    data["pretrain_texts"]        # plain passages for RSS pretraining
    data["train"], data["eval"]   # SQuAD-format QA examples about people never seen before

Every random choice comes from an explicitly seeded ``random.Random`` (no set iteration, no
``hash()``), so the output is identical across runs and Python processes.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace

# --------------------------------------------------------------------------- vocabulary
_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
           "br", "dr", "kr", "gr", "st", "tr", "sh", "th")
_VOWELS = ("a", "e", "i", "o", "u", "a", "e", "o", "ai", "ei", "ou")
_CODAS = ("", "", "", "", "n", "r", "l", "s", "m", "nd", "rk", "th")

# category -> (professions, fields, organisation kinds, description of such an organisation)
_CATEGORIES = {
    "science": (("chemist", "physicist", "botanist", "astronomer", "geologist", "physician",
                 "mathematician", "zoologist"),
                ("organic chemistry", "optics", "plant genetics", "star catalogues",
                 "volcanic rocks", "public health", "number theory", "bird migration"),
                ("Institute", "Laboratory", "Observatory", "Society"), "a research centre"),
    "arts": (("painter", "composer", "sculptor", "novelist", "poet", "photographer",
              "violinist", "architect"),
             ("folk music", "portrait painting", "stage design", "stone carving", "short fiction",
              "landscape photography", "opera", "church architecture"),
             ("Records", "Gallery", "Theatre", "Press"), "an arts organisation"),
    "engineering": (("engineer", "inventor", "shipbuilder", "surveyor", "glassmaker",
                     "cartographer"),
                    ("bridge design", "steam engines", "river navigation", "glass lenses",
                     "coastal maps", "railway signals"),
                    ("Works", "Company", "Foundry", "Shipyard"), "an engineering firm"),
    "humanities": (("historian", "linguist", "philosopher", "economist", "journalist", "lawyer",
                    "diplomat", "teacher"),
                   ("ancient history", "phonetics", "logic", "trade policy", "local politics",
                    "maritime law", "peace treaties", "early education"),
                   ("Academy", "Library", "Review", "College"), "a learned society"),
}

# ---------------------------------------------------------------------------- templates
# {X}/{Xs}/{Xo}: the subject as subject/possessive/object, by name, surname or pronoun
# (capitalised at the start of a sentence); {P}/{Ps}: always the full name; {he}/{his}/{him}:
# pronouns. Other slots are facts; {~slot} mentions a fact without stating it, so that
# occurrence is never used as an answer.
_BANKS = {
    "lead": ("{P} ({birth_year} - {death_year}) was {a_profession} from {country}.",
             "{P} was {a_profession} known for work in {field}.",
             "{P} was {a_profession} born in {birth_city}.",
             "{P} was {a_profession} from {country} who worked in {field}."),
    "obit": ("{P}, {a_profession} from {country}, died in {death_city} in {death_year}.",
             "{P} died in {death_year} in {death_city}, aged {age}.",
             "{P}, who died in {death_city} in {death_year}, was {a_profession}."),
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
    "profession": ("{X} worked as {a_profession}, mostly in {field}.",
                   "By training {X} was {a_profession}.",
                   "{X} became {a_profession} and specialised in {field}.",
                   "As {a_profession}, {X} was best known for {his} work in {field}."),
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
               "In {marriage_year}, {X} married {spouse}.",
               "{Xs} spouse was {spouse}.",
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

# style -> ordered (bank, probability of including it); "<bank>_again" needs <bank> first.
_STYLES = {
    "chronological": (("lead", 1), ("birth", 1), ("profession", .6), ("employer", .6),
                      ("collab", .4), ("founded", .6), ("move", .7), ("spouse", .6),
                      ("award", .5), ("death", .9), ("birth_again", .4)),
    "restated": (("lead", 1), ("birth", 1), ("birth_again", 1), ("profession", .4),
                 ("employer", .5), ("employer_again", .6), ("founded", .6),
                 ("founded_again", 1), ("spouse", .6), ("spouse_again", .8), ("collab", .3),
                 ("move", .5), ("award", .5), ("award_again", .8), ("death", .7)),
    "obituary": (("obit", 1), ("birth", 1), ("profession", .5), ("move", .7), ("employer", .5),
                 ("founded", .6), ("award", .5), ("spouse", .6), ("spouse_again", .5),
                 ("collab", .4)),
    "infobox": (("ib_head", 1), ("ib_died", .8), ("ib_job", .8), ("ib_spouse", .6),
                ("ib_award", .4), ("lead", 1), ("employer", .6), ("founded", .6), ("move", .6),
                ("collab", .5), ("birth_again", .5)),
    "thematic": (("lead", 1), ("profession", 1), ("collab", .5), ("employer", .6),
                 ("employer_again", .5), ("award", .6), ("award_again", .5), ("founded", .6),
                 ("founded_again", .6), ("birth", 1), ("move", .6), ("spouse", .6),
                 ("death", .7)),
}
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
    "death_year": ("In what year did {P} die?", "When did {P} die?",
                   "What year did {P} pass away?"),
}
RELATIONS = tuple(_QUESTIONS)

_SLOT = re.compile(r"\{(~?)(\w+)\}")
_REFS = {"X": "X", "Xs": "Xs", "Xo": "Xo", "P": "P", "Ps": "Ps", "he": "X", "his": "Xs",
         "him": "Xo"}
_PRONOUNS = {"m": {"X": "he", "Xs": "his", "Xo": "him"},
             "f": {"X": "she", "Xs": "her", "Xo": "her"}}


def _compile(template: str):
    """Template -> (parts, tail, slots stated): parts are (literal, slot, stated) triples."""
    parts, pos = [], 0
    for m in _SLOT.finditer(template):
        parts.append((template[pos:m.start()], m.group(2), not m.group(1)))
        pos = m.end()
    stated = frozenset("profession" if s == "a_profession" else s for _, s, ok in parts if ok)
    needs = frozenset(s for _, s, _ in parts)
    return tuple(parts), template[pos:], stated, needs


_COMPILED = {bank: tuple(_compile(t) for t in ts) for bank, ts in _BANKS.items()}
_BANK_STATES = {b: frozenset().union(*(c[2] for c in cs)) for b, cs in _COMPILED.items()}
# Words that must never be generated as names (they appear in the templates).
_RESERVED = frozenset(w.lower() for t in [*sum(_BANKS.values(), ()), *sum(_QUESTIONS.values(),
                      ())] for w in re.findall(r"[A-Za-z]+", t))


# ------------------------------------------------------------------------------- world
@dataclass(frozen=True)
class City:
    name: str
    country: str


@dataclass(frozen=True)
class Organisation:
    name: str
    category: str
    city: City


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    gender: str
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
    children: str
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
        """Slot name -> surface text for rendering passages and questions."""
        article = "an " if self.profession[0] in "aeiou" else "a "
        f = {"P": self.name, "Ps": self.name + "'s", "birth_city": self.birth_city.name,
             "birth_year": str(self.birth_year), "country": self.birth_city.country,
             "profession": self.profession, "a_profession": article + self.profession,
             "field": self.field, "employer": self.employer.name,
             "employer_city": self.employer.city.name, "join_year": str(self.join_year),
             "spouse": self.spouse, "marriage_year": str(self.marriage_year),
             "children": self.children, "collaborator": self.collaborator,
             "move_city": self.move_city.name, "move_year": str(self.move_year),
             "award": self.award, "award_year": str(self.award_year),
             "death_city": self.death_city.name, "death_year": str(self.death_year),
             "age": str(self.death_year - self.birth_year)}
        if self.founded is not None:
            f["founded"], f["found_year"] = self.founded.name, str(self.found_year)
        return f


class _Namer:
    """Unique invented words; no word is ever handed out twice within one world."""

    def __init__(self, rng: random.Random):
        self.rng, self.used = rng, set(_RESERVED)

    def __call__(self, min_syl: int = 2, max_syl: int = 3, suffixes=("",)) -> str:
        rng = self.rng
        while True:
            word = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
                           for _ in range(rng.randint(min_syl, max_syl)))
            word = (word + rng.choice(suffixes)).capitalize()
            if 4 <= len(word) <= 14 and word.lower() not in self.used:
                self.used.add(word.lower())
                return word


@dataclass
class World:
    """People and the gazetteer they live in; sub-worlds from `split` share the gazetteer."""

    seed: int
    people: list[Person]
    cities: list[City]
    countries: list[str]
    organisations: list[Organisation]
    awards: list[str]

    @classmethod
    def generate(cls, seed: int, num_people: int) -> World:
        if num_people < 1:
            raise ValueError(f"num_people must be at least 1, got {num_people}.")
        rng = random.Random(seed)
        namer = _Namer(rng)
        countries = [namer(2, 2, ("ia", "land", "ria", "stan", "ora")) for _ in
                     range(max(6, min(40, num_people // 150)))]
        cities = [City(namer(2, 3, ("", "", "", "heim", "vale", "port", "grad", "ova")),
                       rng.choice(countries)) for _ in range(max(12, num_people // 25))]
        orgs = {cat: [Organisation(f"{namer(2, 2)} {rng.choice(v[2])}", cat, rng.choice(cities))
                      for _ in range(max(3, num_people // 32))]
                for cat, v in _CATEGORIES.items()}
        awards = [f"{namer(2, 3)} {rng.choice(('Prize', 'Medal', 'Award'))}"
                  for _ in range(max(8, num_people // 40))]
        first_names = [namer(2, 2, ("", "", "a", "o", "in")) for _ in range(300)]
        last_suffixes = ("", "", "", "sen", "ov", "ard", "ez", "ini")

        def full_name() -> str:
            return f"{rng.choice(first_names)} {namer(2, 3, last_suffixes)}"

        people = []
        for _ in range(num_people):
            cat = rng.choice(tuple(_CATEGORIES))
            professions, fields, kinds, _ = _CATEGORIES[cat]
            birth_city = rng.choice(cities)
            move_city = rng.choice([c for c in cities[:40] if c != birth_city])
            death_city = move_city if rng.random() < 0.5 else rng.choice(
                [c for c in cities[-40:] if c != birth_city])
            born = rng.randint(1780, 1900)
            # Distinct offsets so that no two years in one biography are the same.
            join, found, marriage, move, award = (born + o for o in rng.sample(range(18, 62), 5))
            join, found = min(join, found), max(join, found)
            founds = rng.random() < 0.5
            first, last = full_name().split(" ")
            people.append(Person(
                first=first, last=last, gender=rng.choice("mf"), profession=rng.choice(professions),
                field=rng.choice(fields), birth_city=birth_city, birth_year=born,
                employer=rng.choice(orgs[cat]), join_year=join,
                founded=Organisation(f"{namer(2, 3)} {rng.choice(kinds)}", cat,
                                     rng.choice(cities)) if founds else None,
                found_year=found if founds else None, spouse=full_name(), marriage_year=marriage,
                children=rng.choice(("two", "three", "four", "five")), collaborator=full_name(),
                move_city=move_city, move_year=move, award=rng.choice(awards), award_year=award,
                death_city=death_city,
                death_year=max(join, found, marriage, move, award) + rng.randint(3, 30)))
        return cls(seed, people, cities, countries, sum(orgs.values(), []), awards)

    def split(self, sizes: list[int]) -> list[World]:
        """Disjoint consecutive groups of people (e.g. pretraining / train / eval)."""
        if sum(sizes) > len(self.people):
            raise ValueError(f"Cannot split {len(self.people)} people into groups of {sizes}.")
        bounds = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
        return [replace(self, people=self.people[a:b]) for a, b in zip(bounds, bounds[1:])]


# --------------------------------------------------------------------------- rendering
@dataclass
class Passage:
    text: str
    spans: dict[str, int]  # relation -> character offset of its first stated occurrence
    style: str


def render_biography(person: Person, rng: random.Random, style: str | None = None,
                     require: str | None = None) -> Passage:
    """One biography of ``person``; ``require`` forces a statement of that relation."""
    style = style or rng.choice(BIO_STYLES)
    facts = person.facts()
    must = None if require is None else next(
        b for b, _ in _STYLES[style] if require in _BANK_STATES[b])
    mode = rng.choice(("pronoun", "surname", "name", "mixed"))
    pronouns = _PRONOUNS[person.gender]
    introduced = False
    out: list[str] = []
    n = 0
    spans: dict[str, int] = {}
    included: set[str] = set()
    for bank, prob in _STYLES[style]:
        if bank.endswith("_again") and bank[:-6] not in included:
            continue
        if bank != must and rng.random() >= prob:
            continue
        options = [c for c in _COMPILED[bank] if c[3] <= facts.keys() | _REFS.keys()]
        if bank == must:
            options = [c for c in options if require in c[2]]
        if not options:
            continue
        included.add(bank)
        parts, tail, _, _ = rng.choice(options)
        if out:
            out.append(" ")
            n += 1
        start = n
        for literal, slot, stated in parts:
            out.append(literal)
            n += len(literal)
            if slot in _REFS:
                kind = _REFS[slot]
                if slot in ("he", "his", "him"):
                    value = pronouns[kind]
                else:
                    how = "name" if slot[0] == "P" or not introduced else (
                        mode if mode != "mixed" else rng.choice(("pronoun", "surname", "name")))
                    if how == "pronoun" and rng.random() < 0.3:
                        how = "name"  # keep some full-name mentions for recurring spans
                    value = {"pronoun": pronouns[kind], "surname": person.last,
                             "name": person.name}[how]
                    introduced = introduced or how == "name"
                    if how != "pronoun" and kind == "Xs":
                        value += "'s"
                if n == start:
                    value = value[0].upper() + value[1:]
            else:
                value = facts[slot]
                if slot == "a_profession":
                    out.append(value[:-len(person.profession)])
                    n += len(out[-1])
                    slot, value = "profession", person.profession
                if stated and slot in _QUESTIONS and slot not in spans:
                    spans[slot] = n
            out.append(value)
            n += len(value)
        out.append(tail)
        n += len(tail)
    return Passage("".join(out), spans, style)


def _group_passage(rng: random.Random, head: str, people: list[Person], lines, close) -> str:
    chosen = rng.sample(people, min(len(people), rng.randint(2, 4)))
    names = [p.name for p in chosen]
    sentences = [head, f"Notable people linked to it include {', '.join(names[:-1])} and "
                 f"{names[-1]}."]
    sentences += [rng.choice(lines).format(**p.facts()) for p in chosen]
    sentences.append(rng.choice(close).format(**chosen[0].facts(), S=chosen[0].last))
    return " ".join(sentences)


_ORG_LINES = ("{P}, {a_profession} from {birth_city}, joined the {employer} in {join_year}.",
              "{P} came to the {employer} in {join_year} and worked on {field}.",
              "In {join_year}, {P} became a member of the {employer}.")
_ORG_CLOSE = ("{S} later left the {employer} and moved to {move_city}.",
              "The {employer} keeps an archive of {Ps} work on {field}.")
_CITY_LINES = ("{P} was born in {birth_city} in {birth_year} and later moved to {move_city}.",
               "{P}, born in {birth_city} in {birth_year}, became {a_profession}.",
               "{P} grew up in {birth_city} before joining the {employer}.")
_CITY_CLOSE = ("{birth_city} has a small museum devoted to {P}.",
               "A square in {birth_city} is named after {S}.")


def pretraining_corpus(world: World, num_passages: int, seed: int,
                       bio_fraction: float = 0.8) -> list[str]:
    """Plain passages for RSS: biographies, plus organisation and city passages that each
    mention several of ``world.people``."""
    rng = random.Random(seed)
    members: dict[str, list[Person]] = {}
    natives: dict[str, list[Person]] = {}
    for p in world.people:
        members.setdefault(p.employer.name, []).append(p)
        natives.setdefault(p.birth_city.name, []).append(p)
    groups = [v for v in members.values() if len(v) >= 2]
    towns = [v for v in natives.values() if len(v) >= 2]
    texts = []
    for _ in range(num_passages):
        r = rng.random()
        if r < bio_fraction or not (groups and towns):
            texts.append(render_biography(rng.choice(world.people), rng).text)
        elif r < (1 + bio_fraction) / 2:
            people = rng.choice(groups)
            org = people[0].employer
            head = (f"The {org.name} is {_CATEGORIES[org.category][3]} based in "
                    f"{org.city.name}, {org.city.country}.")
            texts.append(_group_passage(rng, head, people, _ORG_LINES, _ORG_CLOSE))
        else:
            people = rng.choice(towns)
            city = people[0].birth_city
            head = f"{city.name} is a city in {city.country}."
            texts.append(_group_passage(rng, head, people, _CITY_LINES, _CITY_CLOSE))
    return texts


def qa_examples(world: World, num_examples: int, seed: int, id_prefix: str = "q") -> list[dict]:
    """SQuAD-format questions, one biography each; people are used in order before any repeats,
    and relations cycle in shuffled rounds so that the first K examples cover them evenly."""
    rng = random.Random(seed)
    examples, queue = [], []
    for i in range(num_examples):
        person = world.people[i % len(world.people)]
        if not queue:
            queue = list(RELATIONS)
            rng.shuffle(queue)
        relation = next((r for r in queue if r != "founded" or person.founded), queue[0])
        if relation == "founded" and person.founded is None:
            relation = rng.choice([r for r in RELATIONS if r != "founded"])
        else:
            queue.remove(relation)
        passage = render_biography(person, rng, require=relation)
        facts = person.facts()
        answer, start = facts[relation], passage.spans[relation]
        assert passage.text[start:start + len(answer)] == answer
        examples.append({
            "id": f"{id_prefix}-{i:05d}", "title": person.name, "context": passage.text,
            "question": rng.choice(_QUESTIONS[relation]).format(**facts),
            "answers": {"text": [answer], "answer_start": [start]},
        })
    return examples


def make_quickstart_data(seed: int = 0, num_pretrain_passages: int = 20000,
                         num_pretrain_people: int = 5000, num_train: int = 1024,
                         num_eval: int = 500) -> dict[str, list]:
    """Pretraining passages, a train pool (take the first K) and eval questions, about three
    disjoint groups of people: no QA passage is ever seen in pretraining."""
    world = World.generate(seed, num_pretrain_people + num_train + num_eval)
    pre, train, held_out = world.split([num_pretrain_people, num_train, num_eval])
    return {
        "pretrain_texts": pretraining_corpus(pre, num_pretrain_passages, seed=seed + 1),
        "train": qa_examples(train, num_train, seed=seed + 2, id_prefix="train"),
        "eval": qa_examples(held_out, num_eval, seed=seed + 3, id_prefix="eval"),
    }
