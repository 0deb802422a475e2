# What a user would write instead of koala-replay: the two presets of Segment's Koala (Cloud)
# destination (Track Event for `type = "track"`, Identify Visitor for `type = "identify"`) with
# their default mappings, printed as the POST /batch requests koala-replay's dry run prints.
#
# Run: jq -c --arg url URL -f koala-presets.jq < archive.jsonl
#
# Like koala-replay's default policy, track events sent by analytics.js are skipped (Koala's browser
# pixel records them), and so is any request with neither profile_id nor email.
# NOTE: jq cannot tell a missing field from a null one, so a mapped field whose value is null is
# left out here, where a mapping that keeps nulls would send `null`.

def without_nulls: with_entries(select(.value != null));

# The default email mapping: traits.email when it is present, else the top-level email.
def mapped_email: if .traits.email? != null then .traits.email else .email end;

def track_request:
  select(.context.library.name? != "analytics.js")
  | {
      email: mapped_email,
      event: .event,
      properties: .properties,
      sent_at: .timestamp,
      context: .context,
      traits: .context.traits?,
      device_ip: .context.ip?,
      message_id: .messageId
    }
  | without_nulls
  | select(.event != null and .sent_at != null and .message_id != null)
  | {
      profile_id: .properties.profile_id?,
      email: (.email // .properties.email? // .traits.email?),
      traits: (.traits // {}),
      ip: (.properties.ip? // .device_ip),
      events: [{type: "track"} + .]
    }
  | without_nulls
  | select(.profile_id != null or .email != null);

def identify_request:
  {
    email: mapped_email,
    traits: .traits,
    sent_at: .timestamp,
    context: .context,
    device_ip: .context.ip?,
    message_id: .messageId
  }
  | without_nulls
  | select(.traits != null and .sent_at != null and .message_id != null)
  | {
      profile_id: .traits.profile_id?,
      email: (.email // .traits.email?),
      traits: .traits,
      ip: (.traits.ip? // .device_ip),
      identifies: [{type: "identify"} + . + {context: ((.context // {}) + {source: "segment-cloud"})}]
    }
  | without_nulls
  | select(.profile_id != null or .email != null);

objects
| if .type == "track" then track_request
  elif .type == "identify" then identify_request
  else empty
  end
| {method: "POST", url: $url, body: .}
