"""Django models for the tables Asterisk itself reads through realtime (ODBC).

Their columns are Asterisk's, no more (no Django bookkeeping) and no fewer, so any PJSIP option
can be set; `telephony/asterisk/realtime_schema.py` lists them and
`telephony/tests/test_realtime_schema.py` holds these models and the migrated tables to that list.

Rules from docs/asterisk-behaviour.md that shape these fields:
- `id` (varchar) is the object's name: a string primary key, never an auto integer.
- Yes/no columns are Asterisk's `ast_bool_values` enum: we write the lowercase strings yes/no.
- Enum columns must hold NULL, never '' (PostgreSQL's enums reject ''); NULL means "Asterisk's
  default", so every nullable text column here stores a blank as NULL.
- Enum columns are plain varchars exactly as wide as their longest value: MariaDB (utf8mb4) counts
  four bytes per character towards InnoDB's 8126-byte row limit, which 147 ordinary columns on
  ps_endpoints exceed. Measured on MariaDB 10.11: ps_endpoints keeps 1160 bytes to spare (about
  seven more varchar(40) columns); with the enum columns at varchar(10) it fails to migrate.
"""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models

from telephony.asterisk.realtime_schema import AST_BOOL_WRITE_VALUES, ENUMS


class BlankIsNullMixin:
    """Store '' as NULL, whichever way the value arrives (model, form, save(), update()).

    CharField/TextField.get_prep_value() run to_python(), so saves, update() and lookups all see
    None (`filter(callerid="")` matches NULL); pre_save() keeps the saved instance in step.
    """

    def to_python(self, value):
        value = super().to_python(value)
        return None if value == "" else value

    def pre_save(self, model_instance, add):
        value = super().pre_save(model_instance, add)
        if value == "":
            value = None
            setattr(model_instance, self.attname, value)
        return value


class AstCharField(BlankIsNullMixin, models.CharField):
    """A nullable Asterisk varchar column; blank is stored as NULL."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)


class AstTextField(BlankIsNullMixin, models.TextField):
    """A nullable Asterisk text column; blank is stored as NULL."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)


class AstEnumField(AstCharField):
    """A column Asterisk declares as an enum, kept as a varchar no wider than its longest value.

    Build one with `ast_enum()` so the choices are Asterisk's own vocabulary.
    """

    def __init__(self, *args, **kwargs):
        if not kwargs.get("choices"):
            raise TypeError("AstEnumField needs choices; use ast_enum('<asterisk enum>')")
        kwargs.setdefault("max_length", max(len(value) for value, _label in kwargs["choices"]))
        super().__init__(*args, **kwargs)


class AstBoolField(AstEnumField):
    """An `ast_bool_values` column written as lowercase 'yes'/'no' (NULL = Asterisk's default).

    Asterisk also accepts '1', 'true', 'on'...; we never write those. Not a BooleanField: the column
    is Asterisk's string enum, which PostgreSQL refuses booleans for and MariaDB stores True in as
    '0', i.e. "no".
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [(value, value) for value in AST_BOOL_WRITE_VALUES])
        super().__init__(*args, **kwargs)


def ast_enum(enum_name: str, **kwargs) -> AstEnumField:
    """A field for one of Asterisk's enum types (`realtime_schema.ENUMS`), all values allowed."""
    return AstEnumField(choices=[(value, value) for value in ENUMS[enum_name]], **kwargs)


class PsEndpoint(models.Model):
    """A PJSIP endpoint (sorcery object `endpoint`); `aors`/`auth` are comma lists of names."""

    id = models.CharField(max_length=255, primary_key=True)
    transport = AstCharField(max_length=40)
    aors = AstCharField(max_length=2048)
    auth = AstCharField(max_length=255)
    context = AstCharField(max_length=40)
    disallow = AstCharField(max_length=200)  # ignored by realtime: `allow` alone decides
    allow = AstCharField(max_length=200)  # comma list, e.g. "ulaw,alaw"
    direct_media = AstBoolField()
    connected_line_method = ast_enum("pjsip_connected_line_method_values")
    direct_media_method = ast_enum("pjsip_connected_line_method_values")
    direct_media_glare_mitigation = ast_enum("pjsip_direct_media_glare_mitigation_values")
    disable_direct_media_on_nat = AstBoolField()
    dtmf_mode = ast_enum("pjsip_dtmf_mode_values_v3")
    external_media_address = AstCharField(max_length=40)
    force_rport = AstBoolField()
    ice_support = AstBoolField()
    identify_by = AstCharField(max_length=80)
    mailboxes = AstCharField(max_length=40)
    moh_suggest = AstCharField(max_length=40)
    outbound_auth = AstCharField(max_length=255)
    outbound_proxy = AstCharField(max_length=255)
    rewrite_contact = AstBoolField()
    rtp_ipv6 = AstBoolField()
    rtp_symmetric = AstBoolField()
    send_diversion = AstBoolField()
    send_pai = AstBoolField()
    send_rpid = AstBoolField()
    timers_min_se = models.IntegerField(null=True, blank=True)
    timers = ast_enum("pjsip_timer_values")
    timers_sess_expires = models.IntegerField(null=True, blank=True)
    callerid = AstCharField(max_length=40)
    callerid_privacy = ast_enum("pjsip_cid_privacy_values")
    callerid_tag = AstCharField(max_length=40)
    rel_100 = ast_enum("pjsip_100rel_values_v2", db_column="100rel", verbose_name="100rel")
    aggregate_mwi = AstBoolField()
    trust_id_inbound = AstBoolField()
    trust_id_outbound = AstBoolField()
    use_ptime = AstBoolField()
    use_avpf = AstBoolField()
    media_encryption = ast_enum("pjsip_media_encryption_values")
    inband_progress = AstBoolField()
    call_group = AstCharField(max_length=40)
    pickup_group = AstCharField(max_length=40)
    named_call_group = AstCharField(max_length=40)
    named_pickup_group = AstCharField(max_length=40)
    device_state_busy_at = models.IntegerField(null=True, blank=True)
    fax_detect = AstBoolField()
    t38_udptl = AstBoolField()
    t38_udptl_ec = ast_enum("pjsip_t38udptl_ec_values")
    t38_udptl_maxdatagram = models.IntegerField(null=True, blank=True)
    t38_udptl_nat = AstBoolField()
    t38_udptl_ipv6 = AstBoolField()
    tone_zone = AstCharField(max_length=40)
    language = AstCharField(max_length=40)
    one_touch_recording = AstBoolField()
    record_on_feature = AstCharField(max_length=40)
    record_off_feature = AstCharField(max_length=40)
    rtp_engine = AstCharField(max_length=40)
    allow_transfer = AstBoolField()
    allow_subscribe = AstBoolField()
    sdp_owner = AstCharField(max_length=40)
    sdp_session = AstCharField(max_length=40)
    tos_audio = AstCharField(max_length=10)
    tos_video = AstCharField(max_length=10)
    sub_min_expiry = models.IntegerField(null=True, blank=True)
    from_domain = AstCharField(max_length=40)
    from_user = AstCharField(max_length=40)
    mwi_from_user = AstCharField(max_length=40)
    dtls_verify = AstCharField(max_length=40)
    dtls_rekey = AstCharField(max_length=40)
    dtls_cert_file = AstCharField(max_length=200)
    dtls_private_key = AstCharField(max_length=200)
    dtls_cipher = AstCharField(max_length=200)
    dtls_ca_file = AstCharField(max_length=200)
    dtls_ca_path = AstCharField(max_length=200)
    dtls_setup = ast_enum("pjsip_dtls_setup_values")
    srtp_tag_32 = AstBoolField()
    media_address = AstCharField(max_length=40)
    redirect_method = ast_enum("pjsip_redirect_method_values")
    set_var = AstTextField()
    cos_audio = models.IntegerField(null=True, blank=True)
    cos_video = models.IntegerField(null=True, blank=True)
    message_context = AstCharField(max_length=40)
    force_avp = AstBoolField()
    media_use_received_transport = AstBoolField()
    accountcode = AstCharField(max_length=80)
    user_eq_phone = AstBoolField()
    moh_passthrough = AstBoolField()
    media_encryption_optimistic = AstBoolField()
    rpid_immediate = AstBoolField()
    g726_non_standard = AstBoolField()
    rtp_keepalive = models.IntegerField(null=True, blank=True)
    rtp_timeout = models.IntegerField(null=True, blank=True)
    rtp_timeout_hold = models.IntegerField(null=True, blank=True)
    bind_rtp_to_media_address = AstBoolField()
    voicemail_extension = AstCharField(max_length=40)
    mwi_subscribe_replaces_unsolicited = AstBoolField()
    deny = AstCharField(max_length=95)
    permit = AstCharField(max_length=95)
    acl = AstCharField(max_length=40)
    contact_deny = AstCharField(max_length=95)
    contact_permit = AstCharField(max_length=95)
    contact_acl = AstCharField(max_length=40)
    subscribe_context = AstCharField(max_length=40)
    fax_detect_timeout = models.IntegerField(null=True, blank=True)
    contact_user = AstCharField(max_length=80)
    preferred_codec_only = AstBoolField()
    asymmetric_rtp_codec = AstBoolField()
    rtcp_mux = AstBoolField()
    allow_overlap = AstBoolField()
    refer_blind_progress = AstBoolField()
    notify_early_inuse_ringing = AstBoolField()
    max_audio_streams = models.IntegerField(null=True, blank=True)
    max_video_streams = models.IntegerField(null=True, blank=True)
    webrtc = AstBoolField()
    dtls_fingerprint = ast_enum("sha_hash_values")
    incoming_mwi_mailbox = AstCharField(max_length=40)
    bundle = AstBoolField()
    dtls_auto_generate_cert = AstBoolField()
    follow_early_media_fork = AstBoolField()
    accept_multiple_sdp_answers = AstBoolField()
    suppress_q850_reason_headers = AstBoolField()
    trust_connected_line = AstBoolField()
    send_connected_line = AstBoolField()
    ignore_183_without_sdp = AstBoolField()
    codec_prefs_incoming_offer = AstCharField(max_length=128)
    codec_prefs_outgoing_offer = AstCharField(max_length=128)
    codec_prefs_incoming_answer = AstCharField(max_length=128)
    codec_prefs_outgoing_answer = AstCharField(max_length=128)
    stir_shaken = AstBoolField()
    send_history_info = AstBoolField()
    allow_unauthenticated_options = AstBoolField()
    t38_bind_udptl_to_media_address = AstBoolField()
    geoloc_incoming_call_profile = AstCharField(max_length=80)
    geoloc_outgoing_call_profile = AstCharField(max_length=80)
    incoming_call_offer_pref = ast_enum("pjsip_incoming_call_offer_pref_values")
    outgoing_call_offer_pref = ast_enum("pjsip_outgoing_call_offer_pref_values")
    stir_shaken_profile = AstCharField(max_length=80)
    security_negotiation = ast_enum("security_negotiation_values")
    security_mechanisms = AstCharField(max_length=512)
    send_aoc = AstBoolField()
    overlap_context = AstCharField(max_length=80)
    tenantid = AstCharField(max_length=80)
    suppress_moh_on_sendonly = AstBoolField()
    follow_redirect_methods = AstCharField(max_length=95)
    rtp_port_start = models.IntegerField(null=True, blank=True)
    rtp_port_end = models.IntegerField(null=True, blank=True)

    class Meta:
        managed = True
        db_table = "ps_endpoints"
        verbose_name = "PJSIP endpoint"
        verbose_name_plural = "PJSIP endpoints"

    def __str__(self) -> str:
        return self.id


class PsAuth(models.Model):
    """PJSIP credentials (sorcery object `auth`); `auth_type` is 'userpass' (or NULL)."""

    id = models.CharField(max_length=255, primary_key=True)
    auth_type = ast_enum("pjsip_auth_type_values_v2")
    nonce_lifetime = models.IntegerField(null=True, blank=True)
    md5_cred = AstCharField(max_length=40)
    password = AstCharField(max_length=80)
    realm = AstCharField(max_length=255)
    username = AstCharField(max_length=40)
    refresh_token = AstCharField(max_length=255)
    oauth_clientid = AstCharField(max_length=255)
    oauth_secret = AstCharField(max_length=255)
    password_digest = AstCharField(max_length=1024)
    supported_algorithms_uas = AstCharField(max_length=1024)
    supported_algorithms_uac = AstCharField(max_length=1024)

    class Meta:
        managed = True
        db_table = "ps_auths"
        verbose_name = "PJSIP auth"
        verbose_name_plural = "PJSIP auths"

    def __str__(self) -> str:
        return self.id


class PsAor(models.Model):
    """A PJSIP address of record (sorcery object `aor`); max_contacts NULL or 0 refuses REGISTER."""

    id = models.CharField(max_length=255, primary_key=True)
    contact = AstCharField(max_length=255)
    default_expiration = models.IntegerField(null=True, blank=True)
    mailboxes = AstCharField(max_length=80)
    max_contacts = models.IntegerField(null=True, blank=True)
    minimum_expiration = models.IntegerField(null=True, blank=True)
    remove_existing = AstBoolField()
    qualify_frequency = models.IntegerField(null=True, blank=True)
    authenticate_qualify = AstBoolField()
    maximum_expiration = models.IntegerField(null=True, blank=True)
    outbound_proxy = AstCharField(max_length=255)
    support_path = AstBoolField()
    qualify_timeout = models.FloatField(null=True, blank=True)
    voicemail_extension = AstCharField(max_length=40)
    remove_unavailable = AstBoolField()
    qualify_2xx_only = AstBoolField()

    class Meta:
        managed = True
        db_table = "ps_aors"
        verbose_name = "PJSIP AOR"
        verbose_name_plural = "PJSIP AORs"
        indexes = [
            # as in Asterisk's schema
            models.Index(
                fields=["qualify_frequency", "contact"], name="ps_aors_qualifyfreq_contact"
            ),
        ]

    def __str__(self) -> str:
        return self.id


class PsContact(models.Model):
    """A registered contact (sorcery object `contact`), written by Asterisk on every REGISTER.

    Ids look like `1001^3B@<hash>`; Asterisk finds an AOR's contacts with `id LIKE '1001;@%'`. On
    PostgreSQL Django gives a varchar primary key a second, `varchar_pattern_ops` index
    (`ps_contacts_id_<hash>_like`), which is the one that serves that prefix LIKE. Asterisk writes
    its booleans here as it likes ('no', 'false'), so they accept all of `ast_bool_values`.
    """

    id = models.CharField(max_length=255, primary_key=True)
    uri = AstCharField(max_length=511)
    expiration_time = models.BigIntegerField(null=True, blank=True)
    qualify_frequency = models.IntegerField(null=True, blank=True)
    outbound_proxy = AstCharField(max_length=255)
    path = AstTextField()
    user_agent = AstCharField(max_length=255)
    qualify_timeout = models.FloatField(null=True, blank=True)
    reg_server = AstCharField(max_length=255)
    authenticate_qualify = ast_enum("ast_bool_values")
    via_addr = AstCharField(max_length=40)
    via_port = models.IntegerField(null=True, blank=True)
    call_id = AstCharField(max_length=255)
    endpoint = AstCharField(max_length=255)
    prune_on_boot = ast_enum("ast_bool_values")
    qualify_2xx_only = ast_enum("ast_bool_values")

    class Meta:
        managed = True
        db_table = "ps_contacts"
        verbose_name = "PJSIP contact"
        verbose_name_plural = "PJSIP contacts"
        indexes = [
            # as in Asterisk's schema
            models.Index(
                fields=["qualify_frequency", "expiration_time"], name="ps_contacts_qualifyfreq_exp"
            ),
        ]

    def __str__(self) -> str:
        return self.id


class PsEndpointIdIp(models.Model):
    """Identify an endpoint by source IP or header (sorcery object `identify`), for carriers."""

    id = models.CharField(max_length=255, primary_key=True)
    endpoint = AstCharField(max_length=255)
    match = AstCharField(max_length=80)
    srv_lookups = AstBoolField()
    match_header = AstCharField(max_length=255)
    match_request_uri = AstCharField(max_length=255)

    class Meta:
        managed = True
        db_table = "ps_endpoint_id_ips"
        verbose_name = "PJSIP IP identify"
        verbose_name_plural = "PJSIP IP identifies"

    def __str__(self) -> str:
        return self.id


class PsRegistration(models.Model):
    """An outbound registration to a carrier (sorcery object `registration`)."""

    id = models.CharField(max_length=255, primary_key=True)
    auth_rejection_permanent = AstBoolField()
    client_uri = AstCharField(max_length=255)
    contact_user = AstCharField(max_length=40)
    expiration = models.IntegerField(null=True, blank=True)
    max_retries = models.IntegerField(null=True, blank=True)
    outbound_auth = AstCharField(max_length=255)
    outbound_proxy = AstCharField(max_length=255)
    retry_interval = models.IntegerField(null=True, blank=True)
    forbidden_retry_interval = models.IntegerField(null=True, blank=True)
    server_uri = AstCharField(max_length=255)
    transport = AstCharField(max_length=40)
    support_path = AstBoolField()
    fatal_retry_interval = models.IntegerField(null=True, blank=True)
    line = AstBoolField()
    endpoint = AstCharField(max_length=255)
    support_outbound = AstBoolField()
    contact_header_params = AstCharField(max_length=255)
    max_random_initial_delay = models.IntegerField(null=True, blank=True)
    security_negotiation = ast_enum("security_negotiation_values")
    security_mechanisms = AstCharField(max_length=512)
    user_agent = AstCharField(max_length=255)

    class Meta:
        managed = True
        db_table = "ps_registrations"
        verbose_name = "PJSIP outbound registration"
        verbose_name_plural = "PJSIP outbound registrations"

    def __str__(self) -> str:
        return self.id


class PsDomainAlias(models.Model):
    """A domain Asterisk treats as another (sorcery object `domain_alias`)."""

    id = models.CharField(max_length=255, primary_key=True)
    domain = AstCharField(max_length=255)

    class Meta:
        managed = True
        db_table = "ps_domain_aliases"
        verbose_name = "PJSIP domain alias"
        verbose_name_plural = "PJSIP domain aliases"

    def __str__(self) -> str:
        return self.id


class ExtensionsTable(models.Model):
    """A realtime dialplan row, read by `switch => Realtime/<context>@extensions`.

    Priorities are explicit integers (no `n`, no labels); `appdata` is '' for no arguments.
    """

    id = models.BigAutoField(primary_key=True)
    context = models.CharField(max_length=40)
    exten = models.CharField(max_length=40)
    priority = models.IntegerField(validators=[MinValueValidator(1)])
    app = models.CharField(max_length=40)
    appdata = models.CharField(max_length=256, blank=True, default="")

    class Meta:
        managed = True
        db_table = "extensions_table"
        verbose_name = "realtime dialplan row"
        verbose_name_plural = "realtime dialplan rows"
        constraints = [
            models.UniqueConstraint(
                fields=["context", "exten", "priority"],
                name="extensions_table_context_exten_priority_key",
            ),
        ]

    def __str__(self) -> str:
        return f"[{self.context}] {self.exten},{self.priority},{self.app}({self.appdata})"
