/*
 * keycache -- decoded DKIM public keys, kept for the next signature.
 *
 * libopendkim decodes the signer's public key for every signature it
 * checks with d2i_PUBKEY_bio(). OpenSSL 3.0 routes that call through its
 * decoder framework, which looks through every provider's decoders under
 * locks: in mxgate's profile it took 45% of the CPU of a DKIM-signed
 * message, more than the RSA verification itself. Mail comes from few
 * signers, so their keys repeat.
 *
 * mxgate defines d2i_PUBKEY_bio() itself. The linker exports it, because
 * libopendkim (on the link line) refers to it, and the dynamic linker
 * then binds libopendkim's calls here. A key read from a memory BIO (what
 * libopendkim uses) is looked up by its DER bytes in a small table shared
 * by all threads: a hit returns the decoded key with one more reference
 * (an EVP_PKEY is safe to use from several threads for verification);
 * a miss, and every other kind of call, goes to OpenSSL's own function
 * (dlsym RTLD_NEXT), and a miss's key is kept, the least recently used
 * entry making room. The key material is public: nothing secret is kept.
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "log.h"

#define KC_SLOTS	64	/* keys kept */
#define KC_DER_MAX	1024	/* DER bytes of a key kept (RSA 4096: 550) */

typedef EVP_PKEY *(*d2i_fn)(BIO *, EVP_PKEY **);

struct kc_slot {
	size_t		 len;
	unsigned char	 der[KC_DER_MAX];
	EVP_PKEY	*key;
	unsigned long	 used;		/* clock of the last hit */
};

static pthread_mutex_t	 kc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kc_slot	 kc[KC_SLOTS];
static unsigned long	 kc_clock;
static d2i_fn		 real_d2i;

EVP_PKEY	*d2i_PUBKEY_bio(BIO *, EVP_PKEY **);

/* real -- OpenSSL's own d2i_PUBKEY_bio */
static d2i_fn
real(void)
{
	d2i_fn	f = __atomic_load_n(&real_d2i, __ATOMIC_ACQUIRE);

	if (f == NULL) {
		*(void **)&f = dlsym(RTLD_NEXT, "d2i_PUBKEY_bio");
		if (f == NULL)
			log_panic("keycache: d2i_PUBKEY_bio not found in libcrypto");
		__atomic_store_n(&real_d2i, f, __ATOMIC_RELEASE);
	}
	return f;
}

/* lookup -- the cached key of der[0..len) with a new reference, or NULL */
static EVP_PKEY *
lookup(const unsigned char *der, size_t len)
{
	EVP_PKEY	*k = NULL;
	size_t		 i;

	pthread_mutex_lock(&kc_lock);
	for (i = 0; i < KC_SLOTS; i++)
		if (kc[i].key != NULL && kc[i].len == len &&
		    memcmp(kc[i].der, der, len) == 0) {
			if (EVP_PKEY_up_ref(kc[i].key) == 1) {
				k = kc[i].key;
				kc[i].used = ++kc_clock;
			}
			break;
		}
	pthread_mutex_unlock(&kc_lock);
	return k;
}

/* keep -- remember key for der (takes a reference of its own) */
static void
keep(const unsigned char *der, size_t len, EVP_PKEY *key)
{
	EVP_PKEY	*old;
	size_t		 i, v = 0;

	if (EVP_PKEY_up_ref(key) != 1)
		return;
	pthread_mutex_lock(&kc_lock);
	for (i = 0; i < KC_SLOTS; i++) {
		if (kc[i].key == NULL) {
			v = i;
			break;
		}
		if (kc[i].used < kc[v].used)
			v = i;
	}
	old = kc[v].key;
	memcpy(kc[v].der, der, len);
	kc[v].len = len;
	kc[v].key = key;
	kc[v].used = ++kc_clock;
	pthread_mutex_unlock(&kc_lock);
	EVP_PKEY_free(old);
}

/*
 * d2i_PUBKEY_bio -- OpenSSL's function, with the table in front of it for
 * keys read from a memory BIO into a new EVP_PKEY
 */
EVP_PKEY *
d2i_PUBKEY_bio(BIO *bp, EVP_PKEY **a)
{
	unsigned char		 copy[KC_DER_MAX];
	const unsigned char	*der;
	char			*p = NULL;
	long			 n;
	EVP_PKEY		*k;

	if (a != NULL || bp == NULL || BIO_method_type(bp) != BIO_TYPE_MEM ||
	    (n = BIO_get_mem_data(bp, &p)) <= 0 || n > KC_DER_MAX || p == NULL)
		return real()(bp, a);
	der = (const unsigned char *)p;
	if ((k = lookup(der, (size_t)n)) != NULL)
		return k;
	/* the BIO is read from here on: keep the bytes first */
	memcpy(copy, der, (size_t)n);
	if ((k = real()(bp, NULL)) != NULL)
		keep(copy, (size_t)n, k);
	return k;
}
