<?php
/**
 * Revokes the WooCommerce REST API keys Tastemaker no longer uses.
 *
 * Every time the store connects, WooCommerce's key-granting page (wc-auth) creates a new key
 * described `Tastemaker - API (<date>)`, and WooCommerce's REST API cannot delete keys. So
 * Tastemaker asks this route to, after a reconnect (the older keys) and on disconnect (all).
 *
 * POST /wp-json/tastemaker/v1/api-keys/revoke {shop, key_ids, expires, nonce, signature}
 * The request authenticates itself: `shop` must be this store's public shop key and `signature`
 * the HMAC-SHA256, keyed with the shop's sign-in secret, of
 * `tastemaker-revoke-keys-v1|<shop>|<comma-separated key ids>|<expires>|<nonce>`, with `expires`
 * at most five minutes away. Only keys wc-auth created for Tastemaker are deleted; any other id
 * is reported, never touched. A replay deletes the same ids again, which is harmless.
 *
 * @package Tastemaker
 */

defined( 'ABSPATH' ) || exit;

/**
 * The revoke route.
 */
final class Tastemaker_Api_Keys {

	const ROUTE_NAMESPACE    = 'tastemaker/v1';
	const ROUTE              = '/api-keys/revoke';
	const VERSION            = 'tastemaker-revoke-keys-v1';
	const LIFETIME           = 300;
	const CLOCK_SKEW         = 60;
	const DESCRIPTION_PREFIX = 'Tastemaker - API (';
	const MAX_IDS            = 100;

	/**
	 * Hooks the route into the REST API.
	 */
	public static function init() {
		add_action( 'rest_api_init', array( __CLASS__, 'register_route' ) );
	}

	/**
	 * Registers the route.
	 */
	public static function register_route() {
		register_rest_route(
			self::ROUTE_NAMESPACE,
			self::ROUTE,
			array(
				'methods'             => 'POST',
				'callback'            => array( __CLASS__, 'respond' ),
				// Tastemaker has no WordPress user: the request proves itself by its signature,
				// checked in handle() before anything is read or deleted.
				'permission_callback' => '__return_true',
			)
		);
	}

	/**
	 * The REST callback.
	 *
	 * @param WP_REST_Request $request The request.
	 * @return WP_REST_Response
	 */
	public static function respond( $request ) {
		$params = $request->get_json_params();
		list( $status, $body ) = self::handle( is_array( $params ) ? $params : array(), time() );
		return new WP_REST_Response( $body, $status );
	}

	/**
	 * Checks the request, then deletes the named keys that are Tastemaker's.
	 *
	 * @param array $params The JSON body.
	 * @param int   $now    Current Unix time.
	 * @return array (HTTP status, body)
	 */
	public static function handle( array $params, $now ) {
		$public_key = Tastemaker_Settings::public_key();
		$secret     = Tastemaker_Settings::login_secret();
		if ( '' === $public_key || '' === $secret ) {
			return self::error( 503, 'tastemaker_not_configured', 'The Tastemaker plugin has no shop key or sign-in secret yet.' );
		}
		$ids = isset( $params['key_ids'] ) && is_array( $params['key_ids'] ) ? $params['key_ids'] : null;
		if ( null === $ids || count( $ids ) > self::MAX_IDS || ! self::all_positive_integers( $ids ) ) {
			return self::error( 400, 'tastemaker_invalid_key_ids', 'key_ids must be a list of key ids.' );
		}
		$shop = isset( $params['shop'] ) ? (string) $params['shop'] : '';
		if ( ! hash_equals( $public_key, $shop ) ) {
			return self::error( 403, 'tastemaker_wrong_shop', 'This store is not that shop.' );
		}
		$expires = isset( $params['expires'] ) ? (int) $params['expires'] : 0;
		if ( $expires < $now || $expires > $now + self::LIFETIME + self::CLOCK_SKEW ) {
			return self::error( 401, 'tastemaker_expired', 'The request has expired.' );
		}
		$nonce     = isset( $params['nonce'] ) ? (string) $params['nonce'] : '';
		$signature = isset( $params['signature'] ) ? (string) $params['signature'] : '';
		$ids       = array_map( 'intval', $ids );
		sort( $ids );
		$message = self::VERSION . '|' . $shop . '|' . implode( ',', $ids ) . '|' . $expires . '|' . $nonce;
		if ( '' === $nonce || ! hash_equals( hash_hmac( 'sha256', $message, $secret ), $signature ) ) {
			return self::error( 401, 'tastemaker_bad_signature', 'The request is not signed with this shop\'s sign-in secret.' );
		}
		return array( 200, self::revoke( array_values( array_unique( $ids ) ) ) );
	}

	/**
	 * Deletes the keys among `$ids` that wc-auth created for Tastemaker.
	 *
	 * @param int[] $ids Key ids.
	 * @return array {revoked, missing, not_ours}
	 */
	private static function revoke( array $ids ) {
		global $wpdb;
		$table  = $wpdb->prefix . 'woocommerce_api_keys';
		$result = array(
			'revoked'  => array(),
			'missing'  => array(),
			'not_ours' => array(),
		);
		foreach ( $ids as $id ) {
			// phpcs:ignore WordPress.DB.DirectDatabaseQuery -- WooCommerce has no API to delete keys.
			$row = $wpdb->get_row( $wpdb->prepare( "SELECT key_id, description FROM {$table} WHERE key_id = %d", $id ) );
			if ( null === $row ) {
				$result['missing'][] = $id;
			} elseif ( 0 !== strpos( (string) $row->description, self::DESCRIPTION_PREFIX ) ) {
				$result['not_ours'][] = $id;
			} elseif ( false !== $wpdb->delete( $table, array( 'key_id' => $id ), array( '%d' ) ) ) {
				$result['revoked'][] = $id;
			}
		}
		return $result;
	}

	/**
	 * Whether every value is a positive integer (JSON numbers or digit strings).
	 *
	 * @param array $values Values.
	 * @return bool
	 */
	private static function all_positive_integers( array $values ) {
		foreach ( $values as $value ) {
			if ( ! ( is_int( $value ) || ( is_string( $value ) && ctype_digit( $value ) ) ) || (int) $value <= 0 ) {
				return false;
			}
		}
		return true;
	}

	/**
	 * A WordPress-style REST error.
	 *
	 * @param int    $status  HTTP status.
	 * @param string $code    Error code.
	 * @param string $message Message.
	 * @return array
	 */
	private static function error( $status, $code, $message ) {
		return array(
			$status,
			array(
				'code'    => $code,
				'message' => $message,
				'data'    => array( 'status' => $status ),
			),
		);
	}
}
