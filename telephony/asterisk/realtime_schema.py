"""The columns Asterisk 22 defines for the realtime tables we create, and how Asterisk finds them.

Asterisk reads (and, for ps_contacts, writes) these tables directly, so they must have Asterisk's
own columns. The lists below are copied from Asterisk's schema as its alembic migrations build it
(config branch head e89e30cee53f), dumped from PostgreSQL 15 and MariaDB 10.11 in
`../shared/asterisk/schema/`; column order is Asterisk's. `ps_registrations` is not in that dump:
its columns are taken from the alembic migrations that create and alter it (2fc7930b41b3,
e96a0b8071c, 28ce1e718f05, 465f47f880be, dac2b4c328b8, 18e0805d367f, 417c0247fd7e, 24c12d8e9014).

`telephony/tests/test_realtime_schema.py` holds the models in `telephony/models/realtime.py` and
the migrated database tables to these lists.
"""

from __future__ import annotations

from dataclasses import dataclass

# Asterisk's PostgreSQL enum types (MariaDB uses the same values as column ENUMs), copied from
# postgresql_enum_types.txt: only the types our tables use.
ENUMS: dict[str, tuple[str, ...]] = {
    "ast_bool_values": ("0", "1", "off", "on", "false", "true", "no", "yes"),
    "pjsip_100rel_values_v2": ("no", "required", "peer_supported", "yes"),
    "pjsip_auth_type_values_v2": ("md5", "userpass", "google_oauth"),
    "pjsip_cid_privacy_values": (
        "allowed_not_screened",
        "allowed_passed_screened",
        "allowed_failed_screened",
        "allowed",
        "prohib_not_screened",
        "prohib_passed_screened",
        "prohib_failed_screened",
        "prohib",
        "unavailable",
    ),
    "pjsip_connected_line_method_values": ("invite", "reinvite", "update"),
    "pjsip_direct_media_glare_mitigation_values": ("none", "outgoing", "incoming"),
    "pjsip_dtls_setup_values": ("active", "passive", "actpass"),
    "pjsip_dtmf_mode_values_v3": ("rfc4733", "inband", "info", "auto", "auto_info"),
    "pjsip_incoming_call_offer_pref_values": ("local", "local_first", "remote", "remote_first"),
    "pjsip_media_encryption_values": ("no", "sdes", "dtls"),
    "pjsip_outgoing_call_offer_pref_values": (
        "local",
        "local_merge",
        "local_first",
        "remote",
        "remote_merge",
        "remote_first",
    ),
    "pjsip_redirect_method_values": ("user", "uri_core", "uri_pjsip"),
    "pjsip_t38udptl_ec_values": ("none", "fec", "redundancy"),
    "pjsip_timer_values": ("forced", "no", "required", "yes"),
    "security_negotiation_values": ("no", "mediasec"),
    "sha_hash_values": ("SHA-1", "SHA-256"),
}

# Asterisk accepts all eight ast_bool_values; we write only these, lowercase
# (docs/asterisk-behaviour.md).
AST_BOOL_WRITE_VALUES = ("yes", "no")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "varchar", "text", "integer", "bigint", "float" or "enum"
    length: int | None = None  # varchar(n) only
    enum: str | None = None  # enum only: Asterisk's type name, a key of ENUMS
    not_null: bool = False

    @property
    def values(self) -> tuple[str, ...] | None:
        """The values Asterisk's enum allows, or None for a column that is not an enum."""
        return ENUMS[self.enum] if self.enum else None

    @property
    def sql_type(self) -> str:
        if self.kind == "varchar":
            return f"varchar({self.length})"
        if self.kind == "enum":
            return self.enum
        return self.kind


def varchar(name: str, length: int, *, not_null: bool = False) -> Column:
    return Column(name, "varchar", length=length, not_null=not_null)


def text(name: str) -> Column:
    return Column(name, "text")


def integer(name: str, *, not_null: bool = False) -> Column:
    return Column(name, "integer", not_null=not_null)


def bigint(name: str, *, not_null: bool = False) -> Column:
    return Column(name, "bigint", not_null=not_null)


def double(name: str) -> Column:
    # "double precision" on PostgreSQL, "float" on MariaDB
    return Column(name, "float")


def enum(name: str, enum_name: str) -> Column:
    if enum_name not in ENUMS:
        raise ValueError(f"unknown Asterisk enum {enum_name!r}")
    return Column(name, "enum", enum=enum_name)


def ast_bool(name: str) -> Column:
    return enum(name, "ast_bool_values")


PS_ENDPOINTS: tuple[Column, ...] = (
    varchar("id", 255, not_null=True),
    varchar("transport", 40),
    varchar("aors", 2048),
    varchar("auth", 255),
    varchar("context", 40),
    varchar("disallow", 200),
    varchar("allow", 200),
    ast_bool("direct_media"),
    enum("connected_line_method", "pjsip_connected_line_method_values"),
    enum("direct_media_method", "pjsip_connected_line_method_values"),
    enum("direct_media_glare_mitigation", "pjsip_direct_media_glare_mitigation_values"),
    ast_bool("disable_direct_media_on_nat"),
    enum("dtmf_mode", "pjsip_dtmf_mode_values_v3"),
    varchar("external_media_address", 40),
    ast_bool("force_rport"),
    ast_bool("ice_support"),
    varchar("identify_by", 80),
    varchar("mailboxes", 40),
    varchar("moh_suggest", 40),
    varchar("outbound_auth", 255),
    varchar("outbound_proxy", 255),
    ast_bool("rewrite_contact"),
    ast_bool("rtp_ipv6"),
    ast_bool("rtp_symmetric"),
    ast_bool("send_diversion"),
    ast_bool("send_pai"),
    ast_bool("send_rpid"),
    integer("timers_min_se"),
    enum("timers", "pjsip_timer_values"),
    integer("timers_sess_expires"),
    varchar("callerid", 40),
    enum("callerid_privacy", "pjsip_cid_privacy_values"),
    varchar("callerid_tag", 40),
    enum("100rel", "pjsip_100rel_values_v2"),
    ast_bool("aggregate_mwi"),
    ast_bool("trust_id_inbound"),
    ast_bool("trust_id_outbound"),
    ast_bool("use_ptime"),
    ast_bool("use_avpf"),
    enum("media_encryption", "pjsip_media_encryption_values"),
    ast_bool("inband_progress"),
    varchar("call_group", 40),
    varchar("pickup_group", 40),
    varchar("named_call_group", 40),
    varchar("named_pickup_group", 40),
    integer("device_state_busy_at"),
    ast_bool("fax_detect"),
    ast_bool("t38_udptl"),
    enum("t38_udptl_ec", "pjsip_t38udptl_ec_values"),
    integer("t38_udptl_maxdatagram"),
    ast_bool("t38_udptl_nat"),
    ast_bool("t38_udptl_ipv6"),
    varchar("tone_zone", 40),
    varchar("language", 40),
    ast_bool("one_touch_recording"),
    varchar("record_on_feature", 40),
    varchar("record_off_feature", 40),
    varchar("rtp_engine", 40),
    ast_bool("allow_transfer"),
    ast_bool("allow_subscribe"),
    varchar("sdp_owner", 40),
    varchar("sdp_session", 40),
    varchar("tos_audio", 10),
    varchar("tos_video", 10),
    integer("sub_min_expiry"),
    varchar("from_domain", 40),
    varchar("from_user", 40),
    varchar("mwi_from_user", 40),
    varchar("dtls_verify", 40),
    varchar("dtls_rekey", 40),
    varchar("dtls_cert_file", 200),
    varchar("dtls_private_key", 200),
    varchar("dtls_cipher", 200),
    varchar("dtls_ca_file", 200),
    varchar("dtls_ca_path", 200),
    enum("dtls_setup", "pjsip_dtls_setup_values"),
    ast_bool("srtp_tag_32"),
    varchar("media_address", 40),
    enum("redirect_method", "pjsip_redirect_method_values"),
    text("set_var"),
    integer("cos_audio"),
    integer("cos_video"),
    varchar("message_context", 40),
    ast_bool("force_avp"),
    ast_bool("media_use_received_transport"),
    varchar("accountcode", 80),
    ast_bool("user_eq_phone"),
    ast_bool("moh_passthrough"),
    ast_bool("media_encryption_optimistic"),
    ast_bool("rpid_immediate"),
    ast_bool("g726_non_standard"),
    integer("rtp_keepalive"),
    integer("rtp_timeout"),
    integer("rtp_timeout_hold"),
    ast_bool("bind_rtp_to_media_address"),
    varchar("voicemail_extension", 40),
    ast_bool("mwi_subscribe_replaces_unsolicited"),
    varchar("deny", 95),
    varchar("permit", 95),
    varchar("acl", 40),
    varchar("contact_deny", 95),
    varchar("contact_permit", 95),
    varchar("contact_acl", 40),
    varchar("subscribe_context", 40),
    integer("fax_detect_timeout"),
    varchar("contact_user", 80),
    ast_bool("preferred_codec_only"),
    ast_bool("asymmetric_rtp_codec"),
    ast_bool("rtcp_mux"),
    ast_bool("allow_overlap"),
    ast_bool("refer_blind_progress"),
    ast_bool("notify_early_inuse_ringing"),
    integer("max_audio_streams"),
    integer("max_video_streams"),
    ast_bool("webrtc"),
    enum("dtls_fingerprint", "sha_hash_values"),
    varchar("incoming_mwi_mailbox", 40),
    ast_bool("bundle"),
    ast_bool("dtls_auto_generate_cert"),
    ast_bool("follow_early_media_fork"),
    ast_bool("accept_multiple_sdp_answers"),
    ast_bool("suppress_q850_reason_headers"),
    ast_bool("trust_connected_line"),
    ast_bool("send_connected_line"),
    ast_bool("ignore_183_without_sdp"),
    varchar("codec_prefs_incoming_offer", 128),
    varchar("codec_prefs_outgoing_offer", 128),
    varchar("codec_prefs_incoming_answer", 128),
    varchar("codec_prefs_outgoing_answer", 128),
    ast_bool("stir_shaken"),
    ast_bool("send_history_info"),
    ast_bool("allow_unauthenticated_options"),
    ast_bool("t38_bind_udptl_to_media_address"),
    varchar("geoloc_incoming_call_profile", 80),
    varchar("geoloc_outgoing_call_profile", 80),
    enum("incoming_call_offer_pref", "pjsip_incoming_call_offer_pref_values"),
    enum("outgoing_call_offer_pref", "pjsip_outgoing_call_offer_pref_values"),
    varchar("stir_shaken_profile", 80),
    enum("security_negotiation", "security_negotiation_values"),
    varchar("security_mechanisms", 512),
    ast_bool("send_aoc"),
    varchar("overlap_context", 80),
    varchar("tenantid", 80),
    ast_bool("suppress_moh_on_sendonly"),
    varchar("follow_redirect_methods", 95),
    integer("rtp_port_start"),
    integer("rtp_port_end"),
)

PS_AUTHS: tuple[Column, ...] = (
    varchar("id", 255, not_null=True),
    enum("auth_type", "pjsip_auth_type_values_v2"),
    integer("nonce_lifetime"),
    varchar("md5_cred", 40),
    varchar("password", 80),
    varchar("realm", 255),
    varchar("username", 40),
    varchar("refresh_token", 255),
    varchar("oauth_clientid", 255),
    varchar("oauth_secret", 255),
    varchar("password_digest", 1024),
    varchar("supported_algorithms_uas", 1024),
    varchar("supported_algorithms_uac", 1024),
)

PS_AORS: tuple[Column, ...] = (
    varchar("id", 255, not_null=True),
    varchar("contact", 255),
    integer("default_expiration"),
    varchar("mailboxes", 80),
    integer("max_contacts"),
    integer("minimum_expiration"),
    ast_bool("remove_existing"),
    integer("qualify_frequency"),
    ast_bool("authenticate_qualify"),
    integer("maximum_expiration"),
    varchar("outbound_proxy", 255),
    ast_bool("support_path"),
    double("qualify_timeout"),
    varchar("voicemail_extension", 40),
    ast_bool("remove_unavailable"),
    ast_bool("qualify_2xx_only"),
)

# Written by Asterisk on every REGISTER: a missing column or an extra NOT NULL one makes it
# store no contact while the phone still gets 200 OK. MariaDB's dump has `id` nullable (alembic
# 6c475a93f48a fixed the other tables only); PostgreSQL's has it NOT NULL, as we do.
PS_CONTACTS: tuple[Column, ...] = (
    varchar("id", 255, not_null=True),
    varchar("uri", 511),
    bigint("expiration_time"),
    integer("qualify_frequency"),
    varchar("outbound_proxy", 255),
    text("path"),
    varchar("user_agent", 255),
    double("qualify_timeout"),
    varchar("reg_server", 255),
    ast_bool("authenticate_qualify"),
    varchar("via_addr", 40),
    integer("via_port"),
    varchar("call_id", 255),
    varchar("endpoint", 255),
    ast_bool("prune_on_boot"),
    ast_bool("qualify_2xx_only"),
)

PS_ENDPOINT_ID_IPS: tuple[Column, ...] = (
    varchar("id", 255, not_null=True),
    varchar("endpoint", 255),
    varchar("match", 80),
    ast_bool("srv_lookups"),
    varchar("match_header", 255),
    varchar("match_request_uri", 255),
)

PS_REGISTRATIONS: tuple[Column, ...] = (
    varchar("id", 255, not_null=True),
    ast_bool("auth_rejection_permanent"),
    varchar("client_uri", 255),
    varchar("contact_user", 40),
    integer("expiration"),
    integer("max_retries"),
    varchar("outbound_auth", 255),
    varchar("outbound_proxy", 255),
    integer("retry_interval"),
    integer("forbidden_retry_interval"),
    varchar("server_uri", 255),
    varchar("transport", 40),
    ast_bool("support_path"),
    integer("fatal_retry_interval"),
    ast_bool("line"),
    varchar("endpoint", 255),
    ast_bool("support_outbound"),
    varchar("contact_header_params", 255),
    integer("max_random_initial_delay"),
    enum("security_negotiation", "security_negotiation_values"),
    varchar("security_mechanisms", 512),
    varchar("user_agent", 255),
)

PS_DOMAIN_ALIASES: tuple[Column, ...] = (
    varchar("id", 255, not_null=True),
    varchar("domain", 255),
)

# Asterisk's realtime dialplan table (its alembic names it `extensions`).
EXTENSIONS: tuple[Column, ...] = (
    bigint("id", not_null=True),
    varchar("context", 40, not_null=True),
    varchar("exten", 40, not_null=True),
    integer("priority", not_null=True),
    varchar("app", 40, not_null=True),
    varchar("appdata", 256, not_null=True),
)


@dataclass(frozen=True)
class RealtimeFamily:
    """One extconfig.conf family and, for PJSIP objects, its sorcery.conf mapping.

    extconfig.conf: `<family> => odbc,<res_odbc class>,<table>`
    sorcery.conf:   `[<sorcery_module>]` then `<sorcery_object> = realtime,<family>`
    Every family sorcery.conf names must be defined in extconfig.conf, or res_pjsip declines to
    load; generating both files from this one list keeps them in step.
    """

    family: str
    table: str
    columns: tuple[Column, ...]
    sorcery_module: str | None = None
    sorcery_object: str | None = None


REALTIME_FAMILIES: tuple[RealtimeFamily, ...] = (
    RealtimeFamily("ps_endpoints", "ps_endpoints", PS_ENDPOINTS, "res_pjsip", "endpoint"),
    RealtimeFamily("ps_auths", "ps_auths", PS_AUTHS, "res_pjsip", "auth"),
    RealtimeFamily("ps_aors", "ps_aors", PS_AORS, "res_pjsip", "aor"),
    RealtimeFamily("ps_contacts", "ps_contacts", PS_CONTACTS, "res_pjsip", "contact"),
    RealtimeFamily(
        "ps_endpoint_id_ips",
        "ps_endpoint_id_ips",
        PS_ENDPOINT_ID_IPS,
        "res_pjsip_endpoint_identifier_ip",
        "identify",
    ),
    RealtimeFamily(
        "ps_registrations",
        "ps_registrations",
        PS_REGISTRATIONS,
        "res_pjsip_outbound_registration",
        "registration",
    ),
    RealtimeFamily(
        "ps_domain_aliases",
        "ps_domain_aliases",
        PS_DOMAIN_ALIASES,
        "res_pjsip",
        "domain_alias",
    ),
    # Read by the dialplan switch `switch => Realtime/<context>@extensions`, not by sorcery.
    RealtimeFamily("extensions", "extensions_table", EXTENSIONS),
)

TABLES: dict[str, tuple[Column, ...]] = {f.table: f.columns for f in REALTIME_FAMILIES}
