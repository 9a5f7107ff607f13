"""Word lists for the simulated catalog: artist names, titles, venues.

No word here is a noise word (live, remaster, demo, commentary, instrumental,
karaoke, or their -s/-ed forms); the traps that merely *contain* one ("Alive",
"Demons", "Oliver", "Delivery") are here on purpose.
"""

from __future__ import annotations

import random

TRAP_WORDS = (
    "Alive", "Demons", "Oliver", "Delivery", "Olive", "Deliverance", "Relive",
    "Demolition", "Livewire", "Instrumentalist", "Lively", "Demonstration",
    "Oblivion", "Livestock",
)

WORDS = (
    "Neon", "Harbor", "Velvet", "Echo", "Midnight", "Paper", "Golden", "Static",
    "River", "Glass", "Shadow", "Electric", "Summer", "Winter", "Fever", "Dream",
    "Silver", "Wild", "Ocean", "Thunder", "Honey", "Ghost", "Satellite", "Crystal",
    "Copper", "Violet", "Orbit", "Lantern", "Canyon", "Mirror", "Ember", "Signal",
    "Hollow", "Saint", "Desert", "Comet", "Arcade", "Cherry", "Marble", "Falcon",
    "Wolves", "Tides", "Parade", "Motel", "Atlas", "Cinder", "Meadow", "Aurora",
    "Rumble", "Gospel", "Kingdom", "Lotus", "Pilot", "Riot", "Siren", "Temple",
    "Vapor", "Wander", "Zephyr", "Bloom", "Cobalt", "Drift", "Frost", "Gravity",
    "Horizon", "Ivory", "Jungle", "Kaleidoscope", "Lullaby", "Magnet", "Nova",
    "Opal", "Prism", "Quartz", "Rebel", "Sapphire", "Tangerine", "Utopia",
)

# Invented names: none is meant to be (or echo) a real artist's.
NON_LATIN_NAMES = (
    "夜明けのバンド", "星野ひかり", "새벽 정류장", "블루문", "Сумерки", "Кино Юг",
    "ليالي القاهرة", "فرقة النور", "להקת הים", "שירה כהן", "राग सागर",
    "नीला आसमान", "Ωμέγα", "Σειρήνες", "银河小站", "月亮乐队", "ชายหาด",
    "Ástrós Jónsdóttir", "Zoë Åkesson", "Birna Ðorđević", "Maren Øyvind", "Çağan Şık",
)

EMOJI_NAMES = ("🔥 Fire Kids", "Moon 🌙 Child", "💿 Disc Jockeys", "Sad Girl 🥀", "🦊 Fox & Friends")

HOSTILE_NAMES = (
    "[bold]Bold Brigade[/bold]",
    "[red]Red[/] Alert",
    "Tab\tSeparated",
    "New\nLine Collective",
    "\x1b[31mANSI Red\x1b[0m",
    "\x1b]8;;https://example.invalid\x1b\\Linky\x1b]8;;\x1b\\",
    "[link=https://example.invalid]Click Me[/link]",
    "Back\\slash [/] Crew",
)

GENRES = ("indie pop", "synthwave", "k-pop", "afrobeats", "shoegaze", "techno", "folk", "hip hop", "jazz", "metal")
LABELS = ("Sim Records", "Offline Audio", "Loopback Music", "Seeded Sounds", "Null Label")
VENUES = ("Wembley", "Red Rocks", "the Apollo", "Budokan", "Paradiso", "the Fillmore")
CITIES = ("Berlin", "Tokyo", "Lagos", "Montreal", "Seoul", "Lisbon")
COUNTRIES = ("US", "GB", "SE", "DE", "FR", "JP", "KR", "BR", "NG", "QZ")
BEST_OF = ("Greatest Hits", "Essentials", "Anthology", "Collected", "The Singles")


def artist_name(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.04:
        return rng.choice(HOSTILE_NAMES)
    if roll < 0.08:
        return rng.choice(EMOJI_NAMES)
    if roll < 0.30:
        return rng.choice(NON_LATIN_NAMES)
    words = rng.sample(WORDS, rng.choice((1, 2, 2, 3)))
    if rng.random() < 0.25:
        words.insert(0, "The")
    return " ".join(words)


def title(rng: random.Random) -> str:
    """A song or album title; now and then one with a trap word or another script."""
    roll = rng.random()
    if roll < 0.10:
        return rng.choice(TRAP_WORDS)
    if roll < 0.14:
        return rng.choice(NON_LATIN_NAMES)
    if roll < 0.16:
        return rng.choice(HOSTILE_NAMES)
    return " ".join(rng.sample(WORDS, rng.choice((1, 2, 2, 3))))
