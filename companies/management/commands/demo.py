"""Create a demo campaign and demo accounts when the database has no campaign yet.

Idempotent: a database that already has a campaign is left alone. Refuses when DEBUG is off,
so it can never plant known accounts in production.
"""

import random
import secrets
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from companies.fieldwork import always_open_hours
from companies.models import (
    Campaign,
    Company,
    ContactPerson,
    PhoneLabel,
    merge_numbers,
    normalise_phone,
)
from core.roles import OPERATORS, SUPERVISORS

DEMO_ACCOUNTS = [
    ("operateur1", OPERATORS),
    ("operateur2", OPERATORS),
    ("superviseur", SUPERVISORS),
    ("admin", None),  # superuser: everything, plus /admin/
]

PREFIXES = ["Ets", "Société", "Groupe", "Coopérative", "Atelier", "Maison", "GIE"]
WORDS = [
    "Soleil",
    "Sanaga",
    "Wouri",
    "Bénoué",
    "Nyong",
    "Étoile",
    "Avenir",
    "Espoir",
    "Savane",
    "Baobab",
    "Kola",
    "Prestige",
    "Réussite",
    "Union",
]
PRODUCTS = ["cacao", "café", "manioc", "huile de palme", "maïs", "miel", "karité", "gingembre"]
ACTIVITIES = ["transformation", "commerce", "production", "conditionnement", "séchage"]
LOCATIONS = ["Douala", "Yaoundé", "Bafoussam", "Garoua", "Bamenda", "Kribi", "Limbé", "Dschang"]
FORMS = ["SARL", "SA", "SAS", "SARLU", "ETS", "GIE", "SCOOPS"]


class Command(BaseCommand):
    help = "Crée une campagne et des comptes de démonstration si la base n'a aucune campagne."

    def add_arguments(self, parser):
        parser.add_argument("--companies", type=int, default=50)

    def handle(self, *args, companies: int, **options):
        if not settings.DEBUG:
            raise CommandError(
                "Refusé : DEBUG est désactivé. Les comptes de démonstration ne sont créés "
                "qu'en développement."
            )
        if Campaign.objects.exists():
            self.stdout.write("La base contient déjà une campagne : rien à créer.")
            return
        with transaction.atomic():
            passwords = self.create_accounts()
            # Open at every hour of every day, without holidays: a demo is tried whenever
            # someone has the time. Its page sets real calling hours.
            campaign = Campaign.objects.create(
                name="Campagne de démonstration",
                calling_hours=always_open_hours(),
                public_holidays=False,
            )
            created = Company.objects.bulk_create(self.demo_companies(campaign, companies))
            self.demo_numbers_and_people(created)
        self.stdout.write(
            self.style.SUCCESS(f"Campagne « {campaign.name} » créée avec {companies} entreprises.")
        )
        self.stdout.write("Comptes de démonstration (notez les mots de passe) :")
        for username, password in passwords:
            self.stdout.write(f"  {username:<12} {password}")

    def create_accounts(self) -> list[tuple[str, str]]:
        User = get_user_model()
        created = []
        for username, group_name in DEMO_ACCOUNTS:
            password = secrets.token_urlsafe(9)
            user, _ = User.objects.get_or_create(username=username)
            user.set_password(password)
            user.is_active = True
            user.is_staff = user.is_superuser = group_name is None
            user.save()
            if group_name:
                user.groups.add(Group.objects.get(name=group_name))
            created.append((username, password))
        return created

    def demo_numbers_and_people(self, companies: list[Company]) -> None:
        """Every company's main number in its list, a mobile for one in three, a named contact
        with a direct line for one in four: what the call form shows on real lists."""
        numbers = [(c.pk, c.phone, PhoneLabel.STANDARD) for c in companies]
        numbers += [
            (c.pk, f"+237 6 99 {n // 100:02d} {n % 100:02d} 00", PhoneLabel.MOBILE)
            for n, c in enumerate(companies)
            if n % 3 == 1
        ]
        merge_numbers(numbers)
        for n, company in enumerate(companies):
            if n % 4 == 2:
                ContactPerson(
                    company=company,
                    name=f"M. {WORDS[n % len(WORDS)]}",
                    role="Directeur",
                    phone=f"+237 6 55 {n // 100:02d} {n % 100:02d} 11",
                ).save()

    def demo_companies(self, campaign: Campaign, count: int):
        rng = random.Random(2026)
        for i in range(1, count + 1):
            digits = "6" + rng.choice("5789") + "".join(rng.choice("0123456789") for _ in range(7))
            phone = f"+237 {digits[0]} {digits[1:3]} {digits[3:5]} {digits[5:7]} {digits[7:]}"
            yield Company(
                campaign=campaign,
                name=f"{rng.choice(PREFIXES)} {rng.choice(WORDS)} {rng.choice(WORDS)} {i}",
                phone=phone,
                phone_e164=normalise_phone(phone),
                product=rng.choice(PRODUCTS),
                activity=rng.choice(ACTIVITIES),
                location=rng.choice(LOCATIONS),
                legal_form=rng.choice(FORMS),
                niu=rng.choice("MPD") + "".join(rng.choice("0123456789") for _ in range(12)) + "A",
                validity_score=Decimal(f"{rng.uniform(0, 100):.1f}"),
            )
