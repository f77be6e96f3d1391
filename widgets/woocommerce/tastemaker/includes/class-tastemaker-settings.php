<?php
/**
 * Settings page: where the Tastemaker app lives and which shop this store is.
 *
 * @package Tastemaker
 */

defined( 'ABSPATH' ) || exit;

/**
 * The `tastemaker_settings` option and its page under Settings > Tastemaker.
 */
final class Tastemaker_Settings {

	const OPTION = 'tastemaker_settings';
	const PAGE   = 'tastemaker';

	/**
	 * Hooks the settings page into the admin.
	 */
	public static function init() {
		add_action( 'admin_menu', array( __CLASS__, 'add_page' ) );
		add_action( 'admin_init', array( __CLASS__, 'register' ) );
	}

	/**
	 * The Tastemaker app's address, without a trailing slash; '' until configured.
	 *
	 * @return string
	 */
	public static function tastemaker_url() {
		return untrailingslashit( self::get( 'url' ) );
	}

	/**
	 * The shop's public key (not a secret: storefront widgets name the shop with it).
	 *
	 * @return string
	 */
	public static function public_key() {
		return self::get( 'public_key' );
	}

	/**
	 * The shop's sign-in secret (signs wp-admin login links; never leaves this server).
	 *
	 * @return string
	 */
	public static function login_secret() {
		return self::get( 'login_secret' );
	}

	/**
	 * One stored setting.
	 *
	 * @param string $key Setting name.
	 * @return string
	 */
	private static function get( $key ) {
		$options = get_option( self::OPTION, array() );
		return ( is_array( $options ) && isset( $options[ $key ] ) ) ? (string) $options[ $key ] : '';
	}

	/**
	 * Registers the option, its sanitizer and its fields.
	 */
	public static function register() {
		register_setting(
			self::PAGE,
			self::OPTION,
			array(
				'type'              => 'array',
				'sanitize_callback' => array( __CLASS__, 'sanitize' ),
				'default'           => array(),
			)
		);
		add_settings_section( 'tastemaker_connection', __( 'Connection', 'tastemaker' ), '__return_false', self::PAGE );
		add_settings_field(
			'tastemaker_url',
			__( 'Tastemaker URL', 'tastemaker' ),
			array( __CLASS__, 'field_url' ),
			self::PAGE,
			'tastemaker_connection',
			array( 'label_for' => 'tastemaker_url' )
		);
		add_settings_field(
			'tastemaker_public_key',
			__( 'Public shop key', 'tastemaker' ),
			array( __CLASS__, 'field_public_key' ),
			self::PAGE,
			'tastemaker_connection',
			array( 'label_for' => 'tastemaker_public_key' )
		);
		add_settings_field(
			'tastemaker_login_secret',
			__( 'Sign-in secret', 'tastemaker' ),
			array( __CLASS__, 'field_login_secret' ),
			self::PAGE,
			'tastemaker_connection',
			array( 'label_for' => 'tastemaker_login_secret' )
		);
	}

	/**
	 * Keeps only an https URL (http on this machine, for development) and a well-formed key.
	 *
	 * @param mixed $input Submitted values.
	 * @return array
	 */
	public static function sanitize( $input ) {
		$input    = is_array( $input ) ? $input : array();
		$previous = get_option( self::OPTION, array() );
		$previous = is_array( $previous ) ? $previous : array();
		$clean    = $previous;

		$url = isset( $input['url'] ) ? esc_url_raw( trim( (string) $input['url'] ), array( 'https', 'http' ) ) : '';
		if ( self::is_acceptable_url( $url ) ) {
			$clean['url'] = untrailingslashit( $url );
		} else {
			add_settings_error( self::OPTION, 'tastemaker_url', __( 'The Tastemaker URL must start with https://.', 'tastemaker' ) );
		}

		$key = isset( $input['public_key'] ) ? trim( (string) $input['public_key'] ) : '';
		if ( preg_match( '/^pk_[A-Za-z0-9_-]{8,64}$/', $key ) ) {
			$clean['public_key'] = $key;
		} else {
			add_settings_error( self::OPTION, 'tastemaker_public_key', __( 'The public shop key starts with pk_ (copy it from Tastemaker).', 'tastemaker' ) );
		}

		// Left empty, the stored secret stays (the field never shows it back).
		$secret = isset( $input['login_secret'] ) ? trim( (string) $input['login_secret'] ) : '';
		if ( preg_match( '/^[A-Za-z0-9_-]{32,128}$/', $secret ) ) {
			$clean['login_secret'] = $secret;
		} elseif ( '' !== $secret ) {
			add_settings_error( self::OPTION, 'tastemaker_login_secret', __( 'Paste the sign-in secret exactly as Tastemaker shows it.', 'tastemaker' ) );
		}
		return $clean;
	}

	/**
	 * Whether the URL may be used to load scripts on the storefront.
	 *
	 * @param string $url Candidate URL.
	 * @return bool
	 */
	public static function is_acceptable_url( $url ) {
		if ( 0 === strpos( $url, 'https://' ) ) {
			return true;
		}
		$host = (string) wp_parse_url( $url, PHP_URL_HOST );
		return 0 === strpos( $url, 'http://' ) && in_array( $host, array( 'localhost', '127.0.0.1' ), true );
	}

	/**
	 * Adds Settings > Tastemaker.
	 */
	public static function add_page() {
		add_options_page(
			__( 'Tastemaker', 'tastemaker' ),
			__( 'Tastemaker', 'tastemaker' ),
			'manage_options',
			self::PAGE,
			array( __CLASS__, 'render_page' )
		);
	}

	/**
	 * Prints the settings page.
	 */
	public static function render_page() {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		echo '<div class="wrap"><h1>' . esc_html__( 'Tastemaker', 'tastemaker' ) . '</h1>';
		echo '<p>' . esc_html__( 'Connect your store in Tastemaker first, then paste the three values it shows you. Afterwards WooCommerce > Tastemaker opens Tastemaker, signed in, with one click.', 'tastemaker' ) . '</p>';
		echo '<form action="options.php" method="post">';
		settings_fields( self::PAGE );
		do_settings_sections( self::PAGE );
		submit_button();
		echo '</form></div>';
	}

	/**
	 * The URL field.
	 */
	public static function field_url() {
		printf(
			'<input type="url" class="regular-text" id="tastemaker_url" name="%1$s[url]" value="%2$s" placeholder="https://tastemaker.example.com" />',
			esc_attr( self::OPTION ),
			esc_attr( self::tastemaker_url() )
		);
	}

	/**
	 * The sign-in secret field (write-only).
	 */
	public static function field_login_secret() {
		printf(
			'<input type="password" class="regular-text code" id="tastemaker_login_secret" name="%1$s[login_secret]" value="" autocomplete="off" placeholder="%2$s" />',
			esc_attr( self::OPTION ),
			esc_attr( '' === self::login_secret() ? '' : __( '(saved; paste a new one to replace it)', 'tastemaker' ) )
		);
	}

	/**
	 * The public key field.
	 */
	public static function field_public_key() {
		printf(
			'<input type="text" class="regular-text code" id="tastemaker_public_key" name="%1$s[public_key]" value="%2$s" placeholder="pk_..." />',
			esc_attr( self::OPTION ),
			esc_attr( self::public_key() )
		);
	}
}
