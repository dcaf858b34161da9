#!/usr/bin/env python3
"""Write a company list as CSV, shaped like the ones supervisors receive (the project's own
generator, for the import benchmark and for trying the import by hand).

    python bench/gen_companies.py --rows 100000 > companies.csv
    python bench/gen_companies.py --rows 500 --delimiter ';' --encoding cp1252 --no-header

Deterministic for a given --seed. Phone numbers come in the shapes seen in real lists
(+237 6.., 6.. .. .., 00237.., with dots or dashes); with --dirty a few rows are bad on purpose
(blank phone, a score that is not a number, an unknown status, a duplicate NIU) and scores use the
French decimal comma. With --numbers each row also has a « mobile » column (filled one row in
three) and a contact person, « contact » and « fonction » (one row in four), drawn from a
random stream of their own: the other columns are the same as without.
"""

import argparse
import csv
import random
import sys

PREFIXES = ["Ets", "Société", "Groupe", "Coopérative", "Entreprise", "Atelier", "Maison", "GIE"]
WORDS = [
    "Soleil", "Sanaga", "Wouri", "Mont Cameroun", "Bénoué", "Lobé", "Nyong", "Mbam", "Étoile",
    "Avenir", "Espoir", "Horizon", "Savane", "Forêt", "Océan", "Plateau", "Moungo", "Ndé",
    "Émeraude", "Baobab", "Kola", "Manguier", "Prestige", "Réussite", "Union", "Frères",
]  # fmt: skip
PRODUCTS = [
    "cacao", "café", "manioc", "huile de palme", "maïs", "arachide", "banane plantain",
    "poisson fumé", "miel", "karité", "soja", "piment", "gingembre", "ananas", "lait",
]  # fmt: skip
ACTIVITIES = [
    "transformation", "commerce", "production", "distribution", "export", "conditionnement",
    "séchage", "torréfaction", "meunerie",
]  # fmt: skip
LOCATIONS = [
    "Douala", "Yaoundé", "Bafoussam", "Garoua", "Bamenda", "Maroua", "Ngaoundéré", "Bertoua",
    "Ebolowa", "Kribi", "Limbé", "Buea", "Dschang", "Nkongsamba", "Édéa",
]  # fmt: skip
FORMS = ["SARL", "SA", "SAS", "SARLU", "ETS", "GIE", "SCOOPS", "EI"]
STATUSES = ["pending"] * 17 + ["callback", "done", "in_progress"]
HEADER = [
    "name", "phone", "product", "activity", "location", "legal_form", "niu", "validity_score",
    "status",
]  # fmt: skip
NIU_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def phone(rng: random.Random) -> str:
    digits = "6" + rng.choice("5789") + "".join(rng.choice("0123456789") for _ in range(7))
    shape = rng.randrange(6)
    if shape == 0:
        return "+237 " + " ".join([digits[0], digits[1:3], digits[3:5], digits[5:7], digits[7:]])
    if shape == 1:
        return " ".join([digits[:3], digits[3:5], digits[5:7], digits[7:]])
    if shape == 2:
        return "00237" + digits
    if shape == 3:
        return ".".join([digits[:3], digits[3:5], digits[5:7], digits[7:]])
    if shape == 4:
        return "237-" + digits
    return digits


def row(rng: random.Random, i: int, dirty: bool, previous_niu: str) -> list[str]:
    name = f"{rng.choice(PREFIXES)} {rng.choice(WORDS)} {rng.choice(WORDS)} {i}"
    niu = (
        rng.choice("MPD")
        + "".join(rng.choice("0123456789") for _ in range(12))
        + rng.choice(NIU_LETTERS)
    )
    score = f"{rng.uniform(0, 100):.1f}"
    fields = [
        name,
        phone(rng),
        rng.choice(PRODUCTS),
        rng.choice(ACTIVITIES),
        rng.choice(LOCATIONS),
        rng.choice(FORMS),
        niu,
        score,
        rng.choice(STATUSES),
    ]
    if dirty:
        fields[7] = fields[7].replace(".", ",")
        draw = rng.random()
        if draw < 0.01:
            fields[1] = ""
        elif draw < 0.02:
            fields[7] = "n/a"
        elif draw < 0.025:
            fields[8] = "à voir"
        elif draw < 0.03 and previous_niu:
            fields[6] = previous_niu
    return fields


NUMBERS_HEADER = ["mobile", "contact", "fonction"]
PEOPLE = ["M. Mbarga", "Mme Ngo", "M. Fouda", "Mme Atangana", "M. Nji", "Mme Bello"]
ROLES = ["Directeur", "Gérante", "Responsable achats", "Comptable"]


def extra_fields(rng: random.Random) -> list[str]:
    """A mobile for one row in three, a contact person for one row in four."""
    mobile = phone(rng) if rng.random() < 1 / 3 else ""
    if rng.random() < 1 / 4:
        return [mobile, rng.choice(PEOPLE), rng.choice(ROLES)]
    return [mobile, "", ""]


def write(
    out,
    rows: int,
    seed: int = 42,
    delimiter: str = ",",
    header: bool = True,
    dirty=False,
    numbers=False,
):
    rng, extra_rng = random.Random(seed), random.Random(seed + 1)
    writer = csv.writer(out, delimiter=delimiter)
    if header:
        writer.writerow(HEADER + NUMBERS_HEADER if numbers else HEADER)
    previous_niu = ""
    for i in range(1, rows + 1):
        fields = row(rng, i, dirty, previous_niu)
        previous_niu = fields[6]
        if numbers:
            fields += extra_fields(extra_rng)
        writer.writerow(fields)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--delimiter", default=",")
    parser.add_argument("--encoding", default="utf-8")
    parser.add_argument("--no-header", action="store_true")
    parser.add_argument("--dirty", action="store_true")
    parser.add_argument("--numbers", action="store_true", help="a mobile and a contact person")
    args = parser.parse_args()
    with open(sys.stdout.fileno(), "w", encoding=args.encoding, newline="", closefd=False) as out:
        write(
            out,
            args.rows,
            args.seed,
            args.delimiter,
            not args.no_header,
            args.dirty,
            args.numbers,
        )


if __name__ == "__main__":
    main()
