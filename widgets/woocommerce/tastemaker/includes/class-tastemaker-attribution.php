<?php
/**
 * Attribution: the referral click id and the creator's coupon, from the link to the order.
 *
 * A Tastemaker referral link lands on the store with `?tm_click=<id>` (and `&coupon=CODE` when the
 * creator has one). The click id is kept in a first-party cookie and written into the order's
 * meta as `_tastemaker_click` at checkout, which Tastemaker reads from the order webhook.
 *
 * @package Tastemaker
 */

defined( 'ABSPATH' ) || exit;

/**
 * Click cookie, order meta and coupon auto-apply.
 */
final class Tastemaker_Attribution {

	const QUERY_ARG       = 'tm_click';
	const COOKIE          = 'tm_click';
	const META_KEY        = '_tastemaker_click';
	const COUPON_ARG      = 'coupon';
	const PENDING_COUPON  = 'tastemaker_pending_coupon';
	const DEFAULT_DAYS    = 30;

	/**
	 * Hooks into the storefront and both checkouts.
	 */
	public static function init() {
		add_action( 'template_redirect', array( __CLASS__, 'capture_click' ) );
		add_action( 'template_redirect', array( __CLASS__, 'capture_coupon' ) );
		add_action( 'woocommerce_add_to_cart', array( __CLASS__, 'apply_pending_coupon' ), 20, 0 );
		// Classic (shortcode) checkout.
		add_action( 'woocommerce_checkout_create_order', array( __CLASS__, 'tag_classic_order' ), 10, 2 );
		// Block checkout (Store API); the order is saved right after this action.
		add_action( 'woocommerce_store_api_checkout_update_order_from_request', array( __CLASS__, 'tag_block_order' ), 10, 2 );
	}

	/**
	 * A click id as Tastemaker issues them, or '' for anything else (the value comes from a URL).
	 *
	 * @param mixed $value Candidate.
	 * @return string
	 */
	public static function sanitize_click_id( $value ) {
		$value = is_string( $value ) ? $value : '';
		return preg_match( '/^[A-Za-z0-9_-]{1,32}$/', $value ) ? $value : '';
	}

	/**
	 * Stores `?tm_click=` in a first-party cookie; the newest click wins.
	 */
	public static function capture_click() {
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- a public landing link.
		if ( ! isset( $_GET[ self::QUERY_ARG ] ) ) {
			return;
		}
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended, WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- validated by sanitize_click_id.
		$click = self::sanitize_click_id( wp_unslash( $_GET[ self::QUERY_ARG ] ) );
		if ( '' === $click || headers_sent() ) {
			return;
		}
		$days = max( 1, (int) apply_filters( 'tastemaker_click_cookie_days', self::DEFAULT_DAYS ) );
		setcookie(
			self::COOKIE,
			$click,
			array(
				'expires'  => time() + $days * DAY_IN_SECONDS,
				'path'     => COOKIEPATH ? COOKIEPATH : '/',
				'domain'   => COOKIE_DOMAIN,
				'secure'   => is_ssl(),
				'httponly' => true,
				'samesite' => 'Lax',
			)
		);
		$_COOKIE[ self::COOKIE ] = $click; // Visible to the rest of this request too.
	}

	/**
	 * The click id from the cookie, or ''.
	 *
	 * @return string
	 */
	public static function current_click() {
		if ( ! isset( $_COOKIE[ self::COOKIE ] ) ) {
			return '';
		}
		// phpcs:ignore WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- validated by sanitize_click_id.
		return self::sanitize_click_id( wp_unslash( $_COOKIE[ self::COOKIE ] ) );
	}

	/**
	 * `woocommerce_checkout_create_order`: the order is saved after this action.
	 *
	 * @param WC_Order $order Order being created.
	 * @param array    $data  Posted checkout data.
	 */
	public static function tag_classic_order( $order, $data ) {
		self::tag( $order );
	}

	/**
	 * `woocommerce_store_api_checkout_update_order_from_request`.
	 *
	 * @param WC_Order        $order   Order being placed.
	 * @param WP_REST_Request $request Store API request.
	 */
	public static function tag_block_order( $order, $request ) {
		self::tag( $order );
	}

	/**
	 * Writes the click id into the order meta.
	 *
	 * @param mixed $order Order.
	 */
	private static function tag( $order ) {
		$click = self::current_click();
		if ( '' !== $click && is_object( $order ) && method_exists( $order, 'update_meta_data' ) ) {
			$order->update_meta_data( self::META_KEY, $click );
		}
	}

	/**
	 * Remembers `?coupon=CODE` in the WooCommerce session and applies it as soon as it can.
	 */
	public static function capture_coupon() {
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- a public landing link.
		if ( ! isset( $_GET[ self::COUPON_ARG ] ) || ! function_exists( 'WC' ) || ! WC()->session ) {
			return;
		}
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended, WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- wc_format_coupon_code sanitizes.
		$code = wc_format_coupon_code( wp_unslash( (string) $_GET[ self::COUPON_ARG ] ) );
		if ( '' === $code ) {
			return;
		}
		if ( ! WC()->session->has_session() ) {
			WC()->session->set_customer_session_cookie( true ); // Guests need a session to keep it.
		}
		WC()->session->set( self::PENDING_COUPON, $code );
		self::apply_pending_coupon();
	}

	/**
	 * Applies the remembered coupon once the cart has something in it (an empty cart rejects it).
	 */
	public static function apply_pending_coupon() {
		if ( ! function_exists( 'WC' ) || ! WC()->session || ! WC()->cart ) {
			return;
		}
		$code = WC()->session->get( self::PENDING_COUPON );
		if ( ! is_string( $code ) || '' === $code || WC()->cart->is_empty() ) {
			return;
		}
		if ( ! WC()->cart->has_discount( $code ) ) {
			WC()->cart->apply_coupon( $code );
		}
		WC()->session->set( self::PENDING_COUPON, null );
	}
}
