"""Builds and runs an Omniroute worker. Nothing here runs at import time."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.worker import PollerBehaviorSimpleMaximum, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.backorders import BackorderActivities
from activities.carrier import CarrierActivities
from activities.channel_sync import ChannelSyncActivities
from activities.channel_writeback import ChannelWritebackActivities
from activities.dropship import DropshipActivities
from activities.events import EventActivities
from activities.handoff import HandOffActivities
from activities.inventory import InventoryActivities
from activities.lookahead import LookAheadActivities
from activities.message_retry import MessageRetryActivities
from activities.notify import NotifyActivities
from activities.records import RecordActivities
from activities.sourcing import SourcingActivities, SourcingConfigCache
from activities.sweep import ReservationSweepActivities
from activities.threepl import ThreePLInventoryActivities, ThreePLOrderActivities
from activities.waves import WaveActivities
from integrations.carriers.easypost import EasyPostClient
from integrations.channels.shopify_graphql import ShopifyGraphQLClient
from integrations.channels.shops import ShopifyShops
from integrations.dropship.client import PurchaseOrderClient
from integrations.notify.sendgrid import SendGridClient
from integrations.notify.twilio import TwilioClient
from integrations.threepl.pool import ShipBobClientPool
from integrations.threepl.shipbob import ShipBobClient
from integrations.webhooks import WebhookSender
from integrations.webhooks.events import EventSender
from models.returns import ReturnPolicy
from omniroute.config.codec import data_converter_for
from omniroute.config.sealed_secrets import open_sealed
from omniroute.config.settings import Settings
from omniroute.config.telemetry import configure_tracing
from omniroute.config.temporal_tls import temporal_tls
from sourcing.message_retry import MessageRetryPolicy
from store import Store
from workers.channel_syncs import ensure_channel_syncs
from workers.channel_writebacks import ensure_channel_writebacks, notify_customer, shop_resolver
from workers.events import ensure_event_dispatcher
from workers.schedules import ensure_schedules
from workflows.backorders import BackorderSweepWorkflow
from workflows.channel_sync import ChannelInventorySyncWorkflow
from workflows.channel_writeback import ChannelWritebackWorkflow
from workflows.events import EventDeliveryWorkflow, EventDispatchWorkflow
from workflows.fulfilment.dc import DcFulfilmentWorkflow
from workflows.fulfilment.dropship import DropshipFulfilmentWorkflow
from workflows.fulfilment.store import StoreFulfilmentWorkflow
from workflows.fulfilment.threepl import ThreePLFulfilmentWorkflow
from workflows.lookahead import ShadowPriceWorkflow
from workflows.message_retry import MessageRetryWorkflow
from workflows.order import OrderWorkflow
from workflows.returns import ReturnWorkflow
from workflows.sweep import ReservationSweepWorkflow
from workflows.threepl_sync import ThreePLInventorySyncWorkflow
from workflows.waves import ReleaseWaveWorkflow

log = logging.getLogger("omniroute.worker")

WORKFLOWS: Sequence[type] = (OrderWorkflow, DcFulfilmentWorkflow, StoreFulfilmentWorkflow, ReturnWorkflow,
                               ReservationSweepWorkflow, ChannelInventorySyncWorkflow, ThreePLInventorySyncWorkflow,
                               ShadowPriceWorkflow, ReleaseWaveWorkflow, BackorderSweepWorkflow,
                               ThreePLFulfilmentWorkflow, DropshipFulfilmentWorkflow, ChannelWritebackWorkflow,
                               EventDispatchWorkflow, EventDeliveryWorkflow, MessageRetryWorkflow)
# Our pure modules and the heavy libraries behind activities are imported once, not per workflow run.
PASSTHROUGH = ("models", "activities", "sourcing", "store", "integrations", "omniroute",
               "sqlalchemy", "httpx", "zipcodes", "opentelemetry", "email_validator", "idna", "dns",
               "highspy", "numpy", "yaml")
STARTUP_ATTEMPTS = 3


async def connect_client(settings: Settings) -> Client:
    return await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace,
                                data_converter=data_converter_for(settings), interceptors=[TracingInterceptor()],
                                tls=temporal_tls(settings))


@dataclass
class Dependencies:
    store: Store
    carrier: EasyPostClient
    mail: SendGridClient
    shopify: ShopifyGraphQLClient
    threepl: ShipBobClient
    webhooks: WebhookSender
    threepl_accounts: ShipBobClientPool
    vendors: PurchaseOrderClient
    sms: TwilioClient | None = None
    shops: ShopifyShops | None = None
    events: EventSender | None = None
    temporal: Client | None = None


def build_activities(settings: Settings, deps: Dependencies) -> list[Any]:
    # The one real Store implements every port (store/ports.py): each activity class is handed it
    # under the name of each narrow port it asks for.
    store = deps.store
    sourcing_config = SourcingConfigCache(documents=store)
    inventory = InventoryActivities(ledger=store, network=store, orders=store, sourcing=sourcing_config,
                                    reservation_ttl=timedelta(hours=settings.reservation_ttl_hours))
    sourcing = SourcingActivities(network=store, config=sourcing_config)
    look_ahead = LookAheadActivities(queues=store, network=store, ledger=store, documents=store,
                                     config=sourcing_config)
    waves = WaveActivities(queues=store, orders=store, network=store, ledger=store, reservations=store,
                           config=sourcing_config)
    backorders = BackorderActivities(queues=store, network=store, ledger=store)
    policy = ReturnPolicy(window_days=settings.return_window_days, label_expiry_days=settings.rma_label_expiry_days)
    records = RecordActivities(orders=store, network=store, policy=policy)
    carrier = CarrierActivities(deps.carrier, network=store)
    message_retry = message_retry_policy(settings)
    notify = NotifyActivities(deps.mail, settings.mail_from, store, ledger=store, sms=deps.sms,
                              per_hour=settings.notify_per_recipient_per_hour, retry=message_retry)
    messages = MessageRetryActivities(notify, ledger=store, retries=store, policy=message_retry)
    sweep = ReservationSweepActivities(ledger=store, reservations=store, orders=store)
    threepl = ThreePLInventoryActivities(deps.threepl, network=store, feeds=store)
    threepl_orders = ThreePLOrderActivities(deps.threepl_accounts)
    channel_sync = ChannelSyncActivities(stock=store, shopify=deps.shopify)
    writeback = ChannelWritebackActivities(store, shop_resolver(settings, deps.shops or ShopifyShops()),
                                           notify_customer=notify_customer(settings))
    hand_off = HandOffActivities(deps.webhooks, settings.partner_secret)
    dropship = DropshipActivities(deps.vendors, documents=store, secret_for=settings.partner_secret)
    ring = settings.codec_key_ring
    events = (EventActivities(store, deps.events, lambda owner, sealed: open_sealed(ring, owner, sealed), deps.temporal)
              if deps.events is not None and deps.temporal is not None else None)
    return [
        inventory.allocate, inventory.commit, inventory.release, inventory.restock_return, inventory.swap,
        inventory.reroute, inventory.short_pick,
        sourcing.evaluate_rules, look_ahead.refresh_shadow_prices, waves.plan_wave,
        backorders.orders_with_stock_back,
        records.record_order, records.set_order_status, records.record_shipments, records.record_return,
        records.load_return_context, records.get_node,
        carrier.rate_shipment, carrier.buy_label, carrier.void_label,
        notify.notify, messages.retry_due_messages,
        sweep.release_expired_batch,
        threepl.pull_inventory, threepl_orders.place_order, threepl_orders.cancel_order,
        channel_sync.channel_levels, channel_sync.moved_skus, channel_sync.push_levels,
        writeback.pending_writebacks, writeback.write_back,
        hand_off.deliver_release, hand_off.ask_to_cancel,
        dropship.send_purchase_order, dropship.cancel_purchase_order,
        *([events.dispatch_events, events.attempt_delivery] if events is not None else []),
    ]


def message_retry_policy(settings: Settings) -> MessageRetryPolicy:
    return MessageRetryPolicy(first_wait=timedelta(seconds=settings.message_retry_first_seconds),
                              longest_wait=timedelta(seconds=settings.message_retry_longest_wait_seconds),
                              give_up_after=timedelta(hours=settings.message_retry_give_up_hours))


def create_worker(client: Client, settings: Settings, deps: Dependencies, executor: ThreadPoolExecutor,
                  workflows: Sequence[type] = WORKFLOWS) -> Worker:
    """A worker sized for 2 cores. Retries construction on the SDK's intermittent
    "Failed validating workflow" import-lock error (sdk-python #1833, seen on Python 3.11)."""
    for attempt in range(1, STARTUP_ATTEMPTS + 1):
        try:
            return Worker(
                client,
                task_queue=settings.task_queue,
                workflows=list(workflows),
                activities=build_activities(settings, deps),
                activity_executor=executor,
                workflow_runner=SandboxedWorkflowRunner(
                    restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)),
                max_cached_workflows=settings.worker_max_cached_workflows,
                max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
                max_concurrent_activities=settings.worker_max_concurrent_activities,
                max_concurrent_local_activities=settings.worker_max_concurrent_activities,
                workflow_task_poller_behavior=PollerBehaviorSimpleMaximum(maximum=4),
                activity_task_poller_behavior=PollerBehaviorSimpleMaximum(maximum=4),
                graceful_shutdown_timeout=timedelta(seconds=10),
            )
        except RuntimeError as err:
            if "Failed validating workflow" not in str(err) or attempt == STARTUP_ATTEMPTS:
                raise
            log.warning("worker start-up hit the SDK import-lock bug, retrying (%d/%d)", attempt, STARTUP_ATTEMPTS)
    raise AssertionError("unreachable")


@asynccontextmanager
async def running_worker(settings: Settings, *, client: Client | None = None, store: Store | None = None,
                         workflows: Sequence[type] = WORKFLOWS) -> AsyncIterator[Worker]:
    """Everything a worker needs, started; all of it closed on exit (in reverse). `workflows` lets a
    test stand a workflow of its own in for one of ours."""
    async with AsyncExitStack() as stack:
        if store is None:
            store = Store.connect(settings.app_database_url)
            stack.callback(store.dispose)
        carrier = EasyPostClient(settings.easypost_url, settings.easypost_api_key.get_secret_value())
        stack.callback(carrier.close)
        mail = SendGridClient(settings.sendgrid_url, settings.sendgrid_api_key.get_secret_value())
        stack.callback(mail.close)
        shopify = ShopifyGraphQLClient(settings.shopify_url, settings.shopify_api_key.get_secret_value())
        stack.callback(shopify.close)
        shops = ShopifyShops(shopify, (settings.shopify_url, settings.shopify_api_key.get_secret_value()))
        stack.callback(shops.close)
        threepl = ShipBobClient(settings.shipbob_url, settings.shipbob_api_key.get_secret_value())
        stack.callback(threepl.close)
        webhooks = WebhookSender()
        stack.callback(webhooks.close)
        threepl_accounts = ShipBobClientPool(threepl, settings.shipbob_url, settings.partner_secret)
        stack.callback(threepl_accounts.close)
        vendors = PurchaseOrderClient()
        stack.callback(vendors.close)
        sms = None
        if settings.uses_twilio:
            # 5 s, not 10: the e-mail and the SMS share the notify local activity's 15 s attempt.
            sms = TwilioClient(settings.twilio_url, settings.twilio_account_sid,
                               settings.twilio_auth_token.get_secret_value(), settings.twilio_from, timeout=5.0)
            stack.callback(sms.close)
        executor = ThreadPoolExecutor(max_workers=2 * settings.worker_max_concurrent_activities,
                                      thread_name_prefix="activity")
        stack.callback(executor.shutdown, wait=True)
        if client is None:
            client = await connect_client(settings)
        event_sender = EventSender()
        stack.callback(event_sender.close)
        deps = Dependencies(store, carrier, mail, shopify, threepl, webhooks, threepl_accounts, vendors, sms, shops,
                            events=event_sender, temporal=client)
        worker = create_worker(client, settings, deps, executor, workflows)
        await stack.enter_async_context(worker)
        yield worker


async def serve(settings: Settings) -> None:
    tracing = configure_tracing(settings, "omniroute-worker")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with running_worker(settings) as worker:
        await ensure_schedules(worker.client, settings)
        await ensure_channel_syncs(worker.client, settings)
        await ensure_event_dispatcher(worker.client, settings)
        await ensure_channel_writebacks(worker.client, settings)
        print(f"omniroute worker ready: task queue {settings.task_queue!r} on {settings.temporal_address}",
              flush=True)
        await stop.wait()
        log.info("worker stopping")
    if tracing is not None:
        tracing.shutdown()


def run_worker(settings: Settings) -> None:
    """Run a worker until SIGTERM/SIGINT, then shut down gracefully."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(settings))
