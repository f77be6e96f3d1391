<?php
/**
 * WooCommerce > Tastemaker: the connection state and "Open Tastemaker", which signs the merchant
 * in to the Tastemaker admin with a short-lived, single-use signed login link.
 *
 * The link carries no secret: the shop's public key, an expiry at most 60 seconds away, a random
 * nonce and an HMAC-SHA256 of those keyed with the shop's sign-in secret (shown by Tastemaker
 * when the store connected). Tastemaker accepts each nonce once. Only users who may manage
 * WooCommerce see the page or can make a link; the link is made when the button is pressed
 * (a POST with a WordPress nonce), never printed in a page where it could wait to be replayed.
 *
 * @package Tastemaker
 */

defined( 'ABSPATH' ) || exit;

/**
 * The WooCommerce submenu page and the admin-post handler that makes the login link.
 */
final class Tastemaker_Admin_Login {

	const CAPABILITY = 'manage_woocommerce';
	const PAGE       = 'tastemaker-admin';
	const ACTION     = 'tastemaker_open';
	const VERSION    = 'tastemaker-login-v1';
	const LIFETIME   = 60;

	/**
	 * Hooks the page and the button's handler into the admin.
	 */
	public static function init() {
		add_action( 'admin_menu', array( __CLASS__, 'add_page' ) );
		add_action( 'admin_post_' . self::ACTION, array( __CLASS__, 'open' ) );
	}

	/**
	 * Adds WooCommerce > Tastemaker for users who may manage WooCommerce.
	 */
	public static function add_page() {
		add_submenu_page(
			'woocommerce',
			__( 'Tastemaker', 'tastemaker' ),
			__( 'Tastemaker', 'tastemaker' ),
			self::CAPABILITY,
			self::PAGE,
			array( __CLASS__, 'render_page' )
		);
	}

	/**
	 * Whether the plugin knows where Tastemaker is and can sign links for this shop.
	 *
	 * @return bool
	 */
	public static function is_connected() {
		return '' !== Tastemaker_Settings::tastemaker_url()
			&& '' !== Tastemaker_Settings::public_key()
			&& '' !== Tastemaker_Settings::login_secret();
	}

	/**
	 * Prints the page: connection state and, when connected, the Open Tastemaker button.
	 */
	public static function render_page() {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			return;
		}
		echo '<div class="wrap"><h1>' . esc_html__( 'Tastemaker', 'tastemaker' ) . '</h1>';
		if ( ! self::is_connected() ) {
			echo '<p>' . esc_html__( 'Not connected yet. Connect this store in Tastemaker, then enter the values it shows in Settings > Tastemaker.', 'tastemaker' ) . '</p>';
			echo '</div>';
			return;
		}
		printf(
			'<p>%s <strong>%s</strong> (%s <code>%s</code>)</p>',
			esc_html__( 'Connected to', 'tastemaker' ),
			esc_html( Tastemaker_Settings::tastemaker_url() ),
			esc_html__( 'shop key', 'tastemaker' ),
			esc_html( Tastemaker_Settings::public_key() )
		);
		printf( '<form method="post" action="%s" target="_blank">', esc_url( admin_url( 'admin-post.php' ) ) );
		printf( '<input type="hidden" name="action" value="%s" />', esc_attr( self::ACTION ) );
		wp_nonce_field( self::ACTION );
		submit_button( __( 'Open Tastemaker', 'tastemaker' ), 'primary', 'submit', false );
		echo '</form>';
		echo '<p class="description">' . esc_html__( 'Signs you in to your creator program in a new tab.', 'tastemaker' ) . '</p></div>';
	}

	/**
	 * The button: checks who asks, then sends the browser to a fresh login link.
	 */
	public static function open() {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			wp_die( esc_html__( 'You are not allowed to open Tastemaker for this store.', 'tastemaker' ), 403 );
		}
		check_admin_referer( self::ACTION );
		if ( ! self::is_connected() ) {
			wp_die( esc_html__( 'Tastemaker is not set up yet (Settings > Tastemaker).', 'tastemaker' ), 400 );
		}
		$link = self::login_link(
			Tastemaker_Settings::tastemaker_url(),
			Tastemaker_Settings::public_key(),
			Tastemaker_Settings::login_secret(),
			time(),
			bin2hex( random_bytes( 16 ) )
		);
		nocache_headers();
		// The admin configured this host; wp_safe_redirect would refuse it as external.
		wp_redirect( $link ); // phpcs:ignore WordPress.Security.SafeRedirect.wp_redirect_wp_redirect
		exit;
	}

	/**
	 * The signed, single-use login link.
	 *
	 * @param string $url        Tastemaker's address.
	 * @param string $public_key The shop's public key.
	 * @param string $secret     The shop's sign-in secret.
	 * @param int    $now        Current Unix time.
	 * @param string $nonce      A fresh random hex string.
	 * @return string
	 */
	public static function login_link( $url, $public_key, $secret, $now, $nonce ) {
		$expires   = (int) $now + self::LIFETIME;
		$message   = self::VERSION . '|' . $public_key . '|' . $expires . '|' . $nonce;
		$signature = hash_hmac( 'sha256', $message, $secret );
		$query     = http_build_query(
			array(
				'shop'      => $public_key,
				'expires'   => $expires,
				'nonce'     => $nonce,
				'signature' => $signature,
			),
			'',
			'&',
			PHP_QUERY_RFC3986
		);
		return untrailingslashit( $url ) . '/woocommerce/login?' . $query;
	}
}
