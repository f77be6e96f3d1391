"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-12-04 20:16:27.451565
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import plugin.models.base
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('clicks',
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('link_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('creator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('click_uid', sa.String(length=32), nullable=False),
    sa.Column('occurred_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('visitor_hash', sa.String(length=64), nullable=False),
    sa.Column('referrer_host', sa.String(length=255), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clicks')),
    sa.UniqueConstraint('click_uid', name=op.f('uq_clicks_click_uid'))
    )
    with op.batch_alter_table('clicks', schema=None) as batch_op:
        batch_op.create_index('ix_clicks_link_id_occurred_at', ['link_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_clicks_shop_id_occurred_at', ['shop_id', 'occurred_at'], unique=False)

    op.create_table('shops',
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('credentials_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('attribution_window_days', sa.BigInteger(), nullable=False),
    sa.Column('hold_days', sa.BigInteger(), nullable=False),
    sa.Column('payout_minimum_minor', sa.BigInteger(), nullable=False),
    sa.Column('settings', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('installed_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('uninstalled_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_synced_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shops')),
    sa.UniqueConstraint('platform', 'domain', name=op.f('uq_shops_platform_domain')),
    sa.UniqueConstraint('public_key', name=op.f('uq_shops_public_key'))
    )
    op.create_table('api_keys',
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('revoked_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_api_keys_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_shop_id'), ['shop_id'], unique=False)

    op.create_table('campaigns',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('format', sa.String(length=32), nullable=False),
    sa.Column('primary_kpi', sa.String(length=32), nullable=False),
    sa.Column('kpi_target', sa.BigInteger(), nullable=False),
    sa.Column('archived_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('starts_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ends_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('budget_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('brief', sa.Text(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_campaigns_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigns_shop_id'), ['shop_id'], unique=False)

    op.create_table('creators',
    sa.Column('handle', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('email_hash', sa.String(length=64), nullable=True),
    sa.Column('customer_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('social_handles', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('niche', sa.String(length=120), nullable=False),
    sa.Column('audience_size', sa.BigInteger(), nullable=False),
    sa.Column('engagement_rate_bps', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('payout_email', sa.String(length=254), nullable=True),
    sa.Column('payout_method', sa.String(length=32), nullable=False),
    sa.Column('portal_token_hash', sa.String(length=64), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_creators_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_creators')),
    sa.UniqueConstraint('portal_token_hash', name=op.f('uq_creators_portal_token_hash')),
    sa.UniqueConstraint('shop_id', 'handle', name=op.f('uq_creators_shop_id_handle'))
    )
    with op.batch_alter_table('creators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_creators_email_hash'), ['email_hash'], unique=False)

    op.create_table('metric_cohort_days',
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('creator_id', sa.BigInteger(), nullable=False),
    sa.Column('campaign_id', sa.BigInteger(), nullable=False),
    sa.Column('customers', sa.BigInteger(), nullable=False),
    sa.Column('repeat_customers', sa.BigInteger(), nullable=False),
    sa.Column('repeat_orders', sa.BigInteger(), nullable=False),
    sa.Column('repeat_revenue_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_metric_cohort_days_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'day', 'creator_id', 'campaign_id', name=op.f('pk_metric_cohort_days'))
    )
    op.create_table('metric_customer_cohorts',
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_key', sa.String(length=80), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('creator_id', sa.BigInteger(), nullable=False),
    sa.Column('campaign_id', sa.BigInteger(), nullable=False),
    sa.Column('repeat_orders', sa.BigInteger(), nullable=False),
    sa.Column('repeat_revenue_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_metric_customer_cohorts_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'customer_key', name=op.f('pk_metric_customer_cohorts'))
    )
    op.create_table('metric_order_days',
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('creator_id', sa.BigInteger(), nullable=False),
    sa.Column('campaign_id', sa.BigInteger(), nullable=False),
    sa.Column('orders', sa.BigInteger(), nullable=False),
    sa.Column('click_orders', sa.BigInteger(), nullable=False),
    sa.Column('code_orders', sa.BigInteger(), nullable=False),
    sa.Column('self_referral_orders', sa.BigInteger(), nullable=False),
    sa.Column('new_customers', sa.BigInteger(), nullable=False),
    sa.Column('gross_revenue_minor', sa.BigInteger(), nullable=False),
    sa.Column('refunded_minor', sa.BigInteger(), nullable=False),
    sa.Column('self_referral_revenue_minor', sa.BigInteger(), nullable=False),
    sa.Column('commission_minor', sa.BigInteger(), nullable=False),
    sa.Column('flat_fee_minor', sa.BigInteger(), nullable=False),
    sa.Column('bonus_minor', sa.BigInteger(), nullable=False),
    sa.Column('reversal_minor', sa.BigInteger(), nullable=False),
    sa.Column('adjustment_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_metric_order_days_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'day', 'creator_id', 'campaign_id', name=op.f('pk_metric_order_days'))
    )
    op.create_table('metric_states',
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('clicks_pruned_before', sa.Date(), nullable=True),
    sa.Column('rebuild_first_day', sa.Date(), nullable=True),
    sa.Column('rebuild_last_day', sa.Date(), nullable=True),
    sa.Column('rebuild_next_day', sa.Date(), nullable=True),
    sa.Column('rebuild_started_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rebuild_finished_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sketch_generation', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_metric_states_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_metric_states'))
    )
    op.create_table('metric_visitor_blocks',
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('span', sa.BigInteger(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('link_id', sa.BigInteger(), nullable=False),
    sa.Column('creator_id', sa.BigInteger(), nullable=False),
    sa.Column('generation', sa.BigInteger(), nullable=False),
    sa.Column('clicks', sa.BigInteger(), nullable=False),
    sa.Column('visitors_sketch', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_metric_visitor_blocks_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'span', 'first_day', 'link_id', name=op.f('pk_metric_visitor_blocks'))
    )
    op.create_table('oauth_states',
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('expires_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_oauth_states_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_states')),
    sa.UniqueConstraint('nonce', name=op.f('uq_oauth_states_nonce'))
    )
    with op.batch_alter_table('oauth_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_states_shop_id'), ['shop_id'], unique=False)

    op.create_table('orders',
    sa.Column('platform_order_id', sa.BigInteger(), nullable=False),
    sa.Column('order_number', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('presentment_currency', sa.String(length=3), nullable=False),
    sa.Column('subtotal_minor', sa.BigInteger(), nullable=False),
    sa.Column('discount_minor', sa.BigInteger(), nullable=False),
    sa.Column('tax_minor', sa.BigInteger(), nullable=False),
    sa.Column('shipping_minor', sa.BigInteger(), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('net_item_revenue_minor', sa.BigInteger(), nullable=False),
    sa.Column('presentment_total_minor', sa.BigInteger(), nullable=False),
    sa.Column('customer_ref', sa.String(length=64), nullable=True),
    sa.Column('customer_email_hash', sa.String(length=64), nullable=True),
    sa.Column('is_first_order', sa.Boolean(), nullable=True),
    sa.Column('is_test', sa.Boolean(), nullable=False),
    sa.Column('discount_codes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('click_uid', sa.String(length=128), nullable=True),
    sa.Column('landing_site', sa.String(length=2048), nullable=True),
    sa.Column('referring_site', sa.String(length=2048), nullable=True),
    sa.Column('line_items', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('placed_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('platform_updated_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('paid_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_orders_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('shop_id', 'platform_order_id', name=op.f('uq_orders_shop_id_platform_order_id'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_placed_at'), ['placed_at'], unique=False)
        batch_op.create_index('ix_orders_shop_id_customer_email_hash', ['shop_id', 'customer_email_hash'], unique=False)
        batch_op.create_index('ix_orders_shop_id_customer_ref', ['shop_id', 'customer_ref'], unique=False)

    op.create_table('outbound_emails',
    sa.Column('idempotency_key', sa.String(length=160), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('to_hash', sa.String(length=64), nullable=False),
    sa.Column('forget_address', sa.Boolean(), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.BigInteger(), nullable=False),
    sa.Column('lease_until', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('transport', sa.String(length=16), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_outbound_emails_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_emails')),
    sa.UniqueConstraint('shop_id', 'idempotency_key', name=op.f('uq_outbound_emails_shop_id_idempotency_key'))
    )
    with op.batch_alter_table('outbound_emails', schema=None) as batch_op:
        batch_op.create_index('ix_outbound_emails_status_updated_at', ['status', 'updated_at'], unique=False)

    op.create_table('product_snapshots',
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('variant_id', sa.String(length=64), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('updated_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_product_snapshots_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_snapshots')),
    sa.UniqueConstraint('shop_id', 'product_id', name=op.f('uq_product_snapshots_shop_id_product_id'))
    )
    op.create_table('refunds',
    sa.Column('platform_refund_id', sa.BigInteger(), nullable=False),
    sa.Column('platform_order_id', sa.BigInteger(), nullable=False),
    sa.Column('item_amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('total_amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('refunded_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('applied_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_refunds_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
    sa.UniqueConstraint('shop_id', 'platform_refund_id', name=op.f('uq_refunds_shop_id_platform_refund_id'))
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index('ix_refunds_shop_id_platform_order_id', ['shop_id', 'platform_order_id'], unique=False)

    op.create_table('try_and_tag_programs',
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('discount_kind', sa.String(length=16), nullable=False),
    sa.Column('discount_value', sa.BigInteger(), nullable=False),
    sa.Column('code_valid_days', sa.BigInteger(), nullable=False),
    sa.Column('code_prefix', sa.String(length=12), nullable=False),
    sa.Column('require_order', sa.Boolean(), nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('verify_posts', sa.Boolean(), nullable=False),
    sa.Column('allowed_networks', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('reward_kind', sa.String(length=16), nullable=False),
    sa.Column('updated_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_try_and_tag_programs_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_try_and_tag_programs')),
    sa.UniqueConstraint('shop_id', name=op.f('uq_try_and_tag_programs_shop_id'))
    )
    with op.batch_alter_table('try_and_tag_programs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_try_and_tag_programs_shop_id'), ['shop_id'], unique=False)

    op.create_table('ugc_feed_versions',
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_ugc_feed_versions_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_ugc_feed_versions'))
    )
    op.create_table('webhook_events',
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=False),
    sa.Column('dedupe_key', sa.String(length=255), nullable=False),
    sa.Column('shop_domain', sa.String(length=255), nullable=False),
    sa.Column('headers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('triggered_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.BigInteger(), nullable=False),
    sa.Column('next_attempt_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('processed_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_webhook_events_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_events')),
    sa.UniqueConstraint('platform', 'dedupe_key', name=op.f('uq_webhook_events_platform_dedupe_key'))
    )
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_events_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index('ix_webhook_events_status_received_at', ['status', 'received_at'], unique=False)

    op.create_table('agreements',
    sa.Column('creator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('deliverables', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('usage_rights_days', sa.BigInteger(), nullable=False),
    sa.Column('usage_rights_territory', sa.String(length=120), nullable=False),
    sa.Column('usage_rights_channels', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('exclusivity', sa.Text(), nullable=False),
    sa.Column('termination_terms', sa.Text(), nullable=False),
    sa.Column('payment_schedule', sa.String(length=32), nullable=False),
    sa.Column('flat_fee_minor', sa.BigInteger(), nullable=False),
    sa.Column('commission_rate_bps', sa.BigInteger(), nullable=False),
    sa.Column('bonus_tiers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('starts_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ends_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('terms_version', sa.BigInteger(), nullable=False),
    sa.Column('accepted_version', sa.BigInteger(), nullable=True),
    sa.Column('signed_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('live_on_acceptance', sa.Boolean(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_agreements_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_agreements_creator_id_creators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_agreements_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreements')),
    sa.UniqueConstraint('creator_id', 'campaign_id', name=op.f('uq_agreements_creator_id_campaign_id'))
    )
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreements_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreements_shop_id'), ['shop_id'], unique=False)

    op.create_table('creator_applications',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('email_hash', sa.String(length=64), nullable=False),
    sa.Column('social_handles', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('niche', sa.String(length=120), nullable=False),
    sa.Column('audience_size', sa.BigInteger(), nullable=False),
    sa.Column('pitch', sa.Text(), nullable=False),
    sa.Column('terms_hash', sa.String(length=64), nullable=False),
    sa.Column('consented_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=True),
    sa.Column('decided_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_message', sa.Text(), nullable=False),
    sa.Column('creator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_creator_applications_creator_id_creators'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_creator_applications_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_creator_applications')),
    sa.UniqueConstraint('shop_id', 'email_hash', 'is_open', name=op.f('uq_creator_applications_shop_id_email_hash_is_open'))
    )
    with op.batch_alter_table('creator_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_creator_applications_creator_id'), ['creator_id'], unique=False)
        batch_op.create_index('ix_creator_applications_shop_id_status', ['shop_id', 'status'], unique=False)

    op.create_table('creator_invitations',
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('expires_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('creator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_creator_invitations_creator_id_creators'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_creator_invitations_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_creator_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_creator_invitations_token_hash'))
    )
    with op.batch_alter_table('creator_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_creator_invitations_creator_id'), ['creator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_creator_invitations_shop_id'), ['shop_id'], unique=False)

    op.create_table('lift_tests',
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('design', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('product_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('waves', sa.BigInteger(), nullable=False),
    sa.Column('wave_days', sa.BigInteger(), nullable=False),
    sa.Column('holdout_bps', sa.BigInteger(), nullable=False),
    sa.Column('baseline_days', sa.BigInteger(), nullable=False),
    sa.Column('duration_days', sa.BigInteger(), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('launched_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_lift_tests_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_lift_tests_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lift_tests'))
    )
    with op.batch_alter_table('lift_tests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lift_tests_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lift_tests_shop_id'), ['shop_id'], unique=False)

    op.create_table('metric_balance_release_days',
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('creator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('unclaimed_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_metric_balance_release_days_creator_id_creators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_metric_balance_release_days_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'day', 'creator_id', 'currency', name=op.f('pk_metric_balance_release_days'))
    )
    with op.batch_alter_table('metric_balance_release_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metric_balance_release_days_creator_id'), ['creator_id'], unique=False)

    op.create_table('metric_balance_totals',
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('creator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('unclaimed_minor', sa.BigInteger(), nullable=False),
    sa.Column('in_payout_minor', sa.BigInteger(), nullable=False),
    sa.Column('paid_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_metric_balance_totals_creator_id_creators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_metric_balance_totals_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'creator_id', 'currency', name=op.f('pk_metric_balance_totals'))
    )
    with op.batch_alter_table('metric_balance_totals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metric_balance_totals_creator_id'), ['creator_id'], unique=False)

    op.create_table('metric_order_contributions',
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cells', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('customer_key', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_metric_order_contributions_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_metric_order_contributions_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_metric_order_contributions'))
    )
    with op.batch_alter_table('metric_order_contributions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metric_order_contributions_shop_id'), ['shop_id'], unique=False)

    op.create_table('payouts',
    sa.Column('creator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=False),
    sa.Column('batch_key', sa.String(length=64), nullable=False),
    sa.Column('approved_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paid_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('external_reference', sa.String(length=255), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_payouts_creator_id_creators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_payouts_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payouts')),
    sa.UniqueConstraint('shop_id', 'idempotency_key', name=op.f('uq_payouts_shop_id_idempotency_key'))
    )
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payouts_batch_key'), ['batch_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_payouts_creator_id'), ['creator_id'], unique=False)

    op.create_table('referral_sprints',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('starts_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('credit_per_order_minor', sa.BigInteger(), nullable=False),
    sa.Column('cap_per_creator_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('settled_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('settled_total_minor', sa.BigInteger(), nullable=False),
    sa.Column('settled_creators', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_referral_sprints_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_referral_sprints_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_sprints'))
    )
    with op.batch_alter_table('referral_sprints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_sprints_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index('ix_referral_sprints_settled_at_ends_at', ['settled_at', 'ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_sprints_shop_id'), ['shop_id'], unique=False)

    op.create_table('ugc_posts',
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('creator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('network', sa.String(length=16), nullable=False),
    sa.Column('post_url', sa.String(length=2048), nullable=True),
    sa.Column('media', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('caption', sa.Text(), nullable=False),
    sa.Column('alt_text', sa.String(length=300), nullable=False),
    sa.Column('author_handle', sa.String(length=120), nullable=False),
    sa.Column('product_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('featured', sa.Boolean(), nullable=False),
    sa.Column('moderation_status', sa.String(length=16), nullable=False),
    sa.Column('moderation_reason', sa.Text(), nullable=True),
    sa.Column('moderated_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('disclosure_ok', sa.Boolean(), nullable=True),
    sa.Column('disclosure_matches', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('disclosure_checked_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('posted_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('post_check_status', sa.String(length=16), nullable=False),
    sa.Column('post_checked_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('post_check_error', sa.Text(), nullable=True),
    sa.Column('updated_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_ugc_posts_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_ugc_posts_creator_id_creators'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_ugc_posts_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ugc_posts'))
    )
    with op.batch_alter_table('ugc_posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ugc_posts_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ugc_posts_creator_id'), ['creator_id'], unique=False)
        batch_op.create_index('ix_ugc_posts_shop_id_moderation_status', ['shop_id', 'moderation_status'], unique=False)

    op.create_table('agreement_acceptances',
    sa.Column('agreement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version_number', sa.BigInteger(), nullable=False),
    sa.Column('creator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('accepted_by', sa.String(length=200), nullable=False),
    sa.Column('accepted_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('document_hash', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=300), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_agreement_acceptances_agreement_id_agreements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_agreement_acceptances_creator_id_creators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_agreement_acceptances_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_acceptances')),
    sa.UniqueConstraint('agreement_id', 'version_number', name=op.f('uq_agreement_acceptances_agreement_id_version_number'))
    )
    with op.batch_alter_table('agreement_acceptances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_acceptances_creator_id'), ['creator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreement_acceptances_shop_id'), ['shop_id'], unique=False)

    op.create_table('agreement_versions',
    sa.Column('agreement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.BigInteger(), nullable=False),
    sa.Column('terms', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('terms_digest', sa.String(length=64), nullable=False),
    sa.Column('changed_fields', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_agreement_versions_agreement_id_agreements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_agreement_versions_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_versions')),
    sa.UniqueConstraint('agreement_id', 'number', name=op.f('uq_agreement_versions_agreement_id_number'))
    )
    with op.batch_alter_table('agreement_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_versions_shop_id'), ['shop_id'], unique=False)

    op.create_table('attributions',
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('creator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('agreement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('evidence', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('self_referral', sa.Boolean(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_attributions_agreement_id_agreements'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_attributions_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_attributions_creator_id_creators'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_attributions_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_attributions_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attributions')),
    sa.UniqueConstraint('order_id', name=op.f('uq_attributions_order_id'))
    )
    with op.batch_alter_table('attributions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attributions_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attributions_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attributions_creator_id'), ['creator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attributions_shop_id'), ['shop_id'], unique=False)

    op.create_table('deliverables',
    sa.Column('agreement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('creator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('due_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('brief', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('post_url', sa.String(length=2048), nullable=True),
    sa.Column('caption', sa.Text(), nullable=False),
    sa.Column('creator_notes', sa.Text(), nullable=False),
    sa.Column('submitted_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewed_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('feedback', sa.Text(), nullable=False),
    sa.Column('approved_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('disclosure_ok', sa.Boolean(), nullable=True),
    sa.Column('disclosure_matches', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_deliverables_agreement_id_agreements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_deliverables_creator_id_creators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_deliverables_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliverables')),
    sa.UniqueConstraint('agreement_id', 'position', name=op.f('uq_deliverables_agreement_id_position'))
    )
    with op.batch_alter_table('deliverables', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliverables_creator_id'), ['creator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliverables_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliverables_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliverables_status'), ['status'], unique=False)

    op.create_table('discount_codes',
    sa.Column('creator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agreement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('code_normalized', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('usage_limit', sa.BigInteger(), nullable=True),
    sa.Column('once_per_customer', sa.Boolean(), nullable=False),
    sa.Column('starts_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('combines_with', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('platform_id', sa.String(length=128), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('alternatives', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_discount_codes_agreement_id_agreements'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_discount_codes_creator_id_creators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_discount_codes_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discount_codes')),
    sa.UniqueConstraint('shop_id', 'code_normalized', name=op.f('uq_discount_codes_shop_id_code_normalized'))
    )
    with op.batch_alter_table('discount_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discount_codes_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_discount_codes_creator_id'), ['creator_id'], unique=False)

    op.create_table('ledger_entries',
    sa.Column('creator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('agreement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('presentment_amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('presentment_currency', sa.String(length=3), nullable=True),
    sa.Column('base_minor', sa.BigInteger(), nullable=True),
    sa.Column('rate_bps', sa.BigInteger(), nullable=True),
    sa.Column('available_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('payout_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_ledger_entries_agreement_id_agreements'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_ledger_entries_creator_id_creators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_ledger_entries_order_id_orders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['payout_id'], ['payouts.id'], name=op.f('fk_ledger_entries_payout_id_payouts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_ledger_entries_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries')),
    sa.UniqueConstraint('shop_id', 'idempotency_key', name=op.f('uq_ledger_entries_shop_id_idempotency_key'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entries_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_available_at'), ['available_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_creator_id'), ['creator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_payout_id'), ['payout_id'], unique=False)
        batch_op.create_index('ix_ledger_entries_shop_id_created_at', ['shop_id', 'created_at'], unique=False)

    op.create_table('lift_assignments',
    sa.Column('test_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('creator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('wave', sa.BigInteger(), nullable=False),
    sa.Column('day', sa.BigInteger(), nullable=False),
    sa.Column('starts_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('activated_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('held_link_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_lift_assignments_creator_id_creators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_lift_assignments_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['test_id'], ['lift_tests.id'], name=op.f('fk_lift_assignments_test_id_lift_tests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lift_assignments')),
    sa.UniqueConstraint('test_id', 'creator_id', name=op.f('uq_lift_assignments_test_id_creator_id'))
    )
    with op.batch_alter_table('lift_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lift_assignments_creator_id'), ['creator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lift_assignments_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lift_assignments_starts_at'), ['starts_at'], unique=False)

    op.create_table('rewards',
    sa.Column('ugc_post_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('discount_kind', sa.String(length=16), nullable=False),
    sa.Column('discount_value', sa.BigInteger(), nullable=False),
    sa.Column('customer_email_hash', sa.String(length=64), nullable=True),
    sa.Column('product_id', sa.String(length=64), nullable=True),
    sa.Column('is_open', sa.Boolean(), nullable=True),
    sa.Column('order_number', sa.String(length=64), nullable=True),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('email_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('claim_token_hash', sa.String(length=64), nullable=True),
    sa.Column('platform_id', sa.String(length=128), nullable=True),
    sa.Column('issued_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.BigInteger(), nullable=False),
    sa.Column('unconfirmed_code', sa.String(length=64), nullable=True),
    sa.Column('lease_until', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_rewards_order_id_orders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_rewards_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ugc_post_id'], ['ugc_posts.id'], name=op.f('fk_rewards_ugc_post_id_ugc_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rewards')),
    sa.UniqueConstraint('claim_token_hash', name=op.f('uq_rewards_claim_token_hash')),
    sa.UniqueConstraint('shop_id', 'customer_email_hash', 'product_id', 'is_open', name=op.f('uq_rewards_shop_id_customer_email_hash_product_id_is_open')),
    sa.UniqueConstraint('ugc_post_id', name=op.f('uq_rewards_ugc_post_id'))
    )
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rewards_customer_email_hash'), ['customer_email_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_rewards_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_rewards_status', ['status'], unique=False)

    op.create_table('ugc_audit_events',
    sa.Column('ugc_post_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('occurred_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_ugc_audit_events_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ugc_post_id'], ['ugc_posts.id'], name=op.f('fk_ugc_audit_events_ugc_post_id_ugc_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ugc_audit_events'))
    )
    with op.batch_alter_table('ugc_audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ugc_audit_events_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ugc_audit_events_ugc_post_id'), ['ugc_post_id'], unique=False)

    op.create_table('ugc_post_products',
    sa.Column('ugc_post_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_ugc_post_products_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ugc_post_id'], ['ugc_posts.id'], name=op.f('fk_ugc_post_products_ugc_post_id_ugc_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ugc_post_products')),
    sa.UniqueConstraint('ugc_post_id', 'product_id', name=op.f('uq_ugc_post_products_ugc_post_id_product_id'))
    )
    with op.batch_alter_table('ugc_post_products', schema=None) as batch_op:
        batch_op.create_index('ix_ugc_post_products_shop_id_product_id', ['shop_id', 'product_id'], unique=False)

    op.create_table('ugc_rights_grants',
    sa.Column('ugc_post_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('scope_on_site', sa.Boolean(), nullable=False),
    sa.Column('scope_email', sa.Boolean(), nullable=False),
    sa.Column('scope_ads', sa.Boolean(), nullable=False),
    sa.Column('duration_days', sa.BigInteger(), nullable=True),
    sa.Column('territory', sa.String(length=255), nullable=False),
    sa.Column('starts_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('request_text', sa.Text(), nullable=False),
    sa.Column('requested_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reply_text', sa.Text(), nullable=True),
    sa.Column('evidence_url', sa.String(length=2048), nullable=True),
    sa.Column('consented_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('updated_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_ugc_rights_grants_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ugc_post_id'], ['ugc_posts.id'], name=op.f('fk_ugc_rights_grants_ugc_post_id_ugc_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ugc_rights_grants'))
    )
    with op.batch_alter_table('ugc_rights_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ugc_rights_grants_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index('ix_ugc_rights_grants_ugc_post_id_status', ['ugc_post_id', 'status'], unique=False)

    op.create_table('ugc_widget_events',
    sa.Column('ugc_post_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('product_id', sa.String(length=64), nullable=True),
    sa.Column('visitor_hash', sa.String(length=64), nullable=False),
    sa.Column('occurred_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_ugc_widget_events_shop_id_shops'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ugc_post_id'], ['ugc_posts.id'], name=op.f('fk_ugc_widget_events_ugc_post_id_ugc_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ugc_widget_events'))
    )
    with op.batch_alter_table('ugc_widget_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ugc_widget_events_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index('ix_ugc_widget_events_shop_id_ugc_post_id_kind', ['shop_id', 'ugc_post_id', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_ugc_widget_events_ugc_post_id'), ['ugc_post_id'], unique=False)

    op.create_table('deliverable_events',
    sa.Column('deliverable_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('occurred_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['deliverable_id'], ['deliverables.id'], name=op.f('fk_deliverable_events_deliverable_id_deliverables'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_deliverable_events_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliverable_events'))
    )
    with op.batch_alter_table('deliverable_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliverable_events_deliverable_id'), ['deliverable_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliverable_events_shop_id'), ['shop_id'], unique=False)

    op.create_table('referral_links',
    sa.Column('creator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('discount_code_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('slug', sa.String(length=32), nullable=False),
    sa.Column('target_path', sa.String(length=512), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_referral_links_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_referral_links_creator_id_creators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['discount_code_id'], ['discount_codes.id'], name=op.f('fk_referral_links_discount_code_id_discount_codes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_referral_links_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_links')),
    sa.UniqueConstraint('slug', name=op.f('uq_referral_links_slug'))
    )
    with op.batch_alter_table('referral_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_links_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_links_creator_id'), ['creator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_links_discount_code_id'), ['discount_code_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_links_shop_id'), ['shop_id'], unique=False)

    op.create_table('held_links',
    sa.Column('creator_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('link_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('released_at', plugin.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', plugin.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_held_links_creator_id_creators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['link_id'], ['referral_links.id'], name=op.f('fk_held_links_link_id_referral_links'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_held_links_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_held_links')),
    sa.UniqueConstraint('link_id', name=op.f('uq_held_links_link_id'))
    )
    with op.batch_alter_table('held_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_held_links_creator_id'), ['creator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_held_links_shop_id'), ['shop_id'], unique=False)

    op.create_table('metric_click_days',
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('link_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('creator_id', sa.BigInteger(), nullable=False),
    sa.Column('clicks', sa.BigInteger(), nullable=False),
    sa.Column('visitors_sketch', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['link_id'], ['referral_links.id'], name=op.f('fk_metric_click_days_link_id_referral_links'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_metric_click_days_shop_id_shops'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'day', 'link_id', name=op.f('pk_metric_click_days'))
    )
    with op.batch_alter_table('metric_click_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metric_click_days_link_id'), ['link_id'], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute('ALTER TABLE metric_click_days ALTER COLUMN visitors_sketch SET STORAGE EXTERNAL')
        op.execute('CREATE OR REPLACE FUNCTION delete_clicks_of_link() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM clicks WHERE link_id = OLD.id; RETURN NULL; END $$')
        op.execute('CREATE TRIGGER referral_links_delete_clicks AFTER DELETE ON referral_links FOR EACH ROW EXECUTE FUNCTION delete_clicks_of_link()')
    if dialect == 'sqlite':
        op.execute('CREATE TRIGGER referral_links_delete_clicks AFTER DELETE ON referral_links FOR EACH ROW BEGIN DELETE FROM clicks WHERE link_id = OLD.id; END')


def downgrade() -> None:
    with op.batch_alter_table('metric_click_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metric_click_days_link_id'))

    op.drop_table('metric_click_days')
    with op.batch_alter_table('held_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_held_links_shop_id'))
        batch_op.drop_index(batch_op.f('ix_held_links_creator_id'))

    op.drop_table('held_links')
    with op.batch_alter_table('referral_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_links_shop_id'))
        batch_op.drop_index(batch_op.f('ix_referral_links_discount_code_id'))
        batch_op.drop_index(batch_op.f('ix_referral_links_creator_id'))
        batch_op.drop_index(batch_op.f('ix_referral_links_campaign_id'))

    op.drop_table('referral_links')
    with op.batch_alter_table('deliverable_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliverable_events_shop_id'))
        batch_op.drop_index(batch_op.f('ix_deliverable_events_deliverable_id'))

    op.drop_table('deliverable_events')
    with op.batch_alter_table('ugc_widget_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ugc_widget_events_ugc_post_id'))
        batch_op.drop_index('ix_ugc_widget_events_shop_id_ugc_post_id_kind')
        batch_op.drop_index(batch_op.f('ix_ugc_widget_events_occurred_at'))

    op.drop_table('ugc_widget_events')
    with op.batch_alter_table('ugc_rights_grants', schema=None) as batch_op:
        batch_op.drop_index('ix_ugc_rights_grants_ugc_post_id_status')
        batch_op.drop_index(batch_op.f('ix_ugc_rights_grants_shop_id'))

    op.drop_table('ugc_rights_grants')
    with op.batch_alter_table('ugc_post_products', schema=None) as batch_op:
        batch_op.drop_index('ix_ugc_post_products_shop_id_product_id')

    op.drop_table('ugc_post_products')
    with op.batch_alter_table('ugc_audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ugc_audit_events_ugc_post_id'))
        batch_op.drop_index(batch_op.f('ix_ugc_audit_events_shop_id'))

    op.drop_table('ugc_audit_events')
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.drop_index('ix_rewards_status')
        batch_op.drop_index(batch_op.f('ix_rewards_order_id'))
        batch_op.drop_index(batch_op.f('ix_rewards_customer_email_hash'))

    op.drop_table('rewards')
    with op.batch_alter_table('lift_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lift_assignments_starts_at'))
        batch_op.drop_index(batch_op.f('ix_lift_assignments_shop_id'))
        batch_op.drop_index(batch_op.f('ix_lift_assignments_creator_id'))

    op.drop_table('lift_assignments')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entries_shop_id_created_at')
        batch_op.drop_index(batch_op.f('ix_ledger_entries_payout_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_entries_order_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_entries_creator_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_entries_available_at'))
        batch_op.drop_index(batch_op.f('ix_ledger_entries_agreement_id'))

    op.drop_table('ledger_entries')
    with op.batch_alter_table('discount_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discount_codes_creator_id'))
        batch_op.drop_index(batch_op.f('ix_discount_codes_agreement_id'))

    op.drop_table('discount_codes')
    with op.batch_alter_table('deliverables', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliverables_status'))
        batch_op.drop_index(batch_op.f('ix_deliverables_shop_id'))
        batch_op.drop_index(batch_op.f('ix_deliverables_due_at'))
        batch_op.drop_index(batch_op.f('ix_deliverables_creator_id'))

    op.drop_table('deliverables')
    with op.batch_alter_table('attributions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attributions_shop_id'))
        batch_op.drop_index(batch_op.f('ix_attributions_creator_id'))
        batch_op.drop_index(batch_op.f('ix_attributions_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_attributions_agreement_id'))

    op.drop_table('attributions')
    with op.batch_alter_table('agreement_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_versions_shop_id'))

    op.drop_table('agreement_versions')
    with op.batch_alter_table('agreement_acceptances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_acceptances_shop_id'))
        batch_op.drop_index(batch_op.f('ix_agreement_acceptances_creator_id'))

    op.drop_table('agreement_acceptances')
    with op.batch_alter_table('ugc_posts', schema=None) as batch_op:
        batch_op.drop_index('ix_ugc_posts_shop_id_moderation_status')
        batch_op.drop_index(batch_op.f('ix_ugc_posts_creator_id'))
        batch_op.drop_index(batch_op.f('ix_ugc_posts_campaign_id'))

    op.drop_table('ugc_posts')
    with op.batch_alter_table('referral_sprints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_sprints_shop_id'))
        batch_op.drop_index('ix_referral_sprints_settled_at_ends_at')
        batch_op.drop_index(batch_op.f('ix_referral_sprints_campaign_id'))

    op.drop_table('referral_sprints')
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payouts_creator_id'))
        batch_op.drop_index(batch_op.f('ix_payouts_batch_key'))

    op.drop_table('payouts')
    with op.batch_alter_table('metric_order_contributions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metric_order_contributions_shop_id'))

    op.drop_table('metric_order_contributions')
    with op.batch_alter_table('metric_balance_totals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metric_balance_totals_creator_id'))

    op.drop_table('metric_balance_totals')
    with op.batch_alter_table('metric_balance_release_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metric_balance_release_days_creator_id'))

    op.drop_table('metric_balance_release_days')
    with op.batch_alter_table('lift_tests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lift_tests_shop_id'))
        batch_op.drop_index(batch_op.f('ix_lift_tests_campaign_id'))

    op.drop_table('lift_tests')
    with op.batch_alter_table('creator_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_creator_invitations_shop_id'))
        batch_op.drop_index(batch_op.f('ix_creator_invitations_creator_id'))

    op.drop_table('creator_invitations')
    with op.batch_alter_table('creator_applications', schema=None) as batch_op:
        batch_op.drop_index('ix_creator_applications_shop_id_status')
        batch_op.drop_index(batch_op.f('ix_creator_applications_creator_id'))

    op.drop_table('creator_applications')
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreements_shop_id'))
        batch_op.drop_index(batch_op.f('ix_agreements_campaign_id'))

    op.drop_table('agreements')
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_events_status_received_at')
        batch_op.drop_index(batch_op.f('ix_webhook_events_shop_id'))

    op.drop_table('webhook_events')
    op.drop_table('ugc_feed_versions')
    with op.batch_alter_table('try_and_tag_programs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_try_and_tag_programs_shop_id'))

    op.drop_table('try_and_tag_programs')
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index('ix_refunds_shop_id_platform_order_id')

    op.drop_table('refunds')
    op.drop_table('product_snapshots')
    with op.batch_alter_table('outbound_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_emails_status_updated_at')

    op.drop_table('outbound_emails')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_shop_id_customer_ref')
        batch_op.drop_index('ix_orders_shop_id_customer_email_hash')
        batch_op.drop_index(batch_op.f('ix_orders_placed_at'))

    op.drop_table('orders')
    with op.batch_alter_table('oauth_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_states_shop_id'))

    op.drop_table('oauth_states')
    op.drop_table('metric_visitor_blocks')
    op.drop_table('metric_states')
    op.drop_table('metric_order_days')
    op.drop_table('metric_customer_cohorts')
    op.drop_table('metric_cohort_days')
    with op.batch_alter_table('creators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_creators_email_hash'))

    op.drop_table('creators')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaigns_shop_id'))

    op.drop_table('campaigns')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_shop_id'))

    op.drop_table('api_keys')
    op.drop_table('shops')
    with op.batch_alter_table('clicks', schema=None) as batch_op:
        batch_op.drop_index('ix_clicks_shop_id_occurred_at')
        batch_op.drop_index('ix_clicks_link_id_occurred_at')

    op.drop_table('clicks')
