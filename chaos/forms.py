"""The panel's form: rates in percent for people, turned into ChaosSettings for the service."""

from decimal import Decimal

from django import forms

from chaos.config import REQUEST_KINDS, ChaosSettings, HttpFault
from chaos.services import (
    MAX_BURST_MULTIPLIER,
    MAX_BURST_SECONDS,
    MAX_FAULTS,
    MAX_LATENCY_MS,
    MAX_PATH_PREFIX_LENGTH,
    MAX_SLOW_CONSUMER_MS,
)

KIND_CHOICES = [("page", "Pages"), ("partial", "Section refreshes (htmx)"), ("api", "API")]


def _percent_field(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=0,
        max_value=100,
        max_digits=4,
        decimal_places=1,
        initial=0,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )


def _ms_field(label: str, maximum: int, minimum: int = 0, initial: int = 0) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=minimum, max_value=maximum, initial=initial)


class HttpFaultForm(forms.Form):
    path_prefix = forms.CharField(
        label="Path prefix", max_length=MAX_PATH_PREFIX_LENGTH, initial="/"
    )
    request_kinds = forms.MultipleChoiceField(
        label="Request kinds",
        choices=KIND_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=list(REQUEST_KINDS),
    )
    latency_ms = _ms_field("Latency (ms)", MAX_LATENCY_MS)
    jitter_ms = _ms_field("Jitter (ms)", MAX_LATENCY_MS)
    error_percent = _percent_field("Errors (%)")
    timeout_percent = _percent_field("Timeouts (%)")

    def to_fault(self) -> HttpFault:
        data = self.cleaned_data
        return HttpFault(
            path_prefix=data["path_prefix"].strip(),
            request_kinds=frozenset(data["request_kinds"]),
            latency_ms=data["latency_ms"],
            jitter_ms=data["jitter_ms"],
            error_rate=float(data["error_percent"] / 100),
            timeout_rate=float(data["timeout_percent"] / 100),
        )

    @classmethod
    def initial_for(cls, fault: HttpFault) -> dict:
        return {
            "path_prefix": fault.path_prefix,
            "request_kinds": [kind for kind in REQUEST_KINDS if kind in fault.request_kinds],
            "latency_ms": fault.latency_ms,
            "jitter_ms": fault.jitter_ms,
            "error_percent": _to_percent(fault.error_rate),
            "timeout_percent": _to_percent(fault.timeout_rate),
        }


HttpFaultFormSet = forms.formset_factory(
    HttpFaultForm, extra=1, can_delete=True, max_num=MAX_FAULTS, validate_max=True
)


class StreamChaosForm(forms.Form):
    stream_disconnect_percent = _percent_field("Stream disconnects (% of heartbeats)")
    stream_burst_multiplier = _ms_field(
        "Event burst multiplier (1 = none)", MAX_BURST_MULTIPLIER, minimum=1, initial=1
    )
    stream_burst_seconds = _ms_field("Event burst length (s)", MAX_BURST_SECONDS)
    stream_slow_consumer_ms = _ms_field("Slowed consumer (ms per frame)", MAX_SLOW_CONSUMER_MS)


def _to_percent(rate: float) -> Decimal:
    return Decimal(str(round(rate * 100, 1)))


# The service names fields as the API does; the form shows percentages under its own names.
_FAULT_FIELDS = {"error_rate": "error_percent", "timeout_rate": "timeout_percent"}
_STREAM_FIELDS = {"stream_disconnect_rate": "stream_disconnect_percent"}


class ChaosPanelForm:
    """The stream fields and one row per HTTP fault rule, validated together."""

    def __init__(self, data=None, *, chaos: ChaosSettings | None = None):
        initial_stream, initial_faults = None, None
        if chaos is not None:
            initial_stream = {
                "stream_disconnect_percent": _to_percent(chaos.stream_disconnect_rate),
                "stream_burst_multiplier": chaos.stream_burst_multiplier,
                "stream_burst_seconds": chaos.stream_burst_seconds,
                "stream_slow_consumer_ms": chaos.stream_slow_consumer_ms,
            }
            initial_faults = [HttpFaultForm.initial_for(fault) for fault in chaos.http_faults]
        self.stream = StreamChaosForm(data, initial=initial_stream, prefix="stream")
        self.faults = HttpFaultFormSet(data, initial=initial_faults, prefix="faults")
        self._kept: list[HttpFaultForm] = []

    def is_valid(self) -> bool:
        valid = self.stream.is_valid() & self.faults.is_valid()
        if valid:
            self._kept = [
                form
                for form in self.faults.forms
                # An untouched blank row has no cleaned data; a ticked "Remove" drops a rule.
                if form.cleaned_data and not form.cleaned_data.get("DELETE")
            ]
        return valid

    def to_settings(self) -> ChaosSettings:
        data = self.stream.cleaned_data
        return ChaosSettings(
            http_faults=tuple(form.to_fault() for form in self._kept),
            stream_disconnect_rate=float(data["stream_disconnect_percent"] / 100),
            stream_burst_multiplier=data["stream_burst_multiplier"],
            stream_burst_seconds=data["stream_burst_seconds"],
            stream_slow_consumer_ms=data["stream_slow_consumer_ms"],
        )

    def add_service_errors(self, fields: dict[str, list[str]]) -> None:
        """Show the service's errors ("http_faults.1.error_rate") beside the right inputs."""
        for name, messages in fields.items():
            parts = name.split(".")
            if parts[0] == "http_faults" and len(parts) == 3:
                form = self._kept[int(parts[1])]
                field = _FAULT_FIELDS.get(parts[2], parts[2])
                for message in messages:
                    form.add_error(field, message)
            elif parts[0] == "http_faults":
                for message in messages:
                    self.faults.non_form_errors().append(message)
            else:
                for message in messages:
                    self.stream.add_error(_STREAM_FIELDS.get(name, name), message)
