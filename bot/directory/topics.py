"""Fixed points in the directory that every channel shares."""

# The main topics, in menu order: the chat's numbered menu and the phone's keypad menu.
MENU_TOPICS = (
    "ehcp",
    "sen_support_school",
    "mental_health",
    "speech_language",
    "social_care_disability",
    "short_breaks_activities",
    "transport",
    "adulthood",
)

# The local safeguarding front door named in every emergency reply.
FRONT_DOOR_KEY = "family_connect"

# The Local Offer team: who families can always talk to, and the owner of any case no
# other service takes (data/routing.yml: fallback_owner).
LOCAL_OFFER_KEY = "local_offer"
