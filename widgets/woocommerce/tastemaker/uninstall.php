<?php
/**
 * Removes the plugin's settings when it is deleted. Order meta stays: it is order history.
 *
 * @package Tastemaker
 */

if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}

delete_option( 'tastemaker_settings' );
