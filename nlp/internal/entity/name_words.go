package entity

import "strings"

// nameStop are words that follow "I'm", "this is", "my name is" or come
// before "here" in ordinary sentences, and so are never taken for a name,
// even Capitalised: pronouns and small words, feelings and states ("I'm
// Fine", "I am Upset"), verbs in -ing ("I'm Looking"), what a customer is
// ("I'm a Gold member", "I'm British"), what is wrong with a name on an order
// ("my name is misspelled"), and the words of "same here", "anyone here?".
// Lower-case, with ASCII apostrophes. Kept small on purpose: a real name
// that is also a common word ("Hope", "Grace") is lost only after "I'm".
var nameStop = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(nameStopWords) {
		m[w] = true
	}
	return m
}()

const nameStopWords = `
a an the this that these those it its it's i i'm im me my mine you your yours he him his she her
we us our they them their who what which where when why how whose here there
is am are was were be been being has have had do does did done can could will would shall
should may might must not no nor yes yeah yep nope ok okay and or but so if then than too
very just still also only even really quite pretty rather almost already again always never
ever now today tomorrow yesterday soon currently actually honestly literally totally
completely definitely probably seriously basically
in on at to from with without for of about after before by into over under up down out off
back away around through near since until
all any some none every each both either neither much many more most less few several
everything nothing something anything everyone someone somebody anyone anybody nobody
everybody people stuff things items guys folks
fine good great well alright sure sorry glad happy pleased thankful grateful excited
upset angry annoyed mad furious frustrated disappointed confused worried afraid scared
unhappy sad tired sick fed bored concerned curious interested unsure certain aware
stuck lost late early busy free new old ready able unable available online offline home
abroad moving leaving
right wrong correct incorrect missing different misspelled misspelt mispelled spelled spelt
listed shown showing displayed printed written typed changed spelt
looking trying having getting waiting writing contacting calling asking wondering going
reaching emailing messaging chatting texting hoping wanting needing planning checking
experiencing facing seeing buying ordering returning shopping using
customer client member buyer user owner manager admin guest visitor regular subscriber
gold silver platinum premium vip prime
bot robot human person agent assistant support help team staff service
british english american canadian german french spanish italian dutch irish scottish welsh
australian indian chinese japanese polish swiss austrian belgian swedish danish norwegian
finnish portuguese greek mexican brazilian european
urgent important serious ridiculous unacceptable outrageous crazy insane absurd terrible
awful bad horrible amazing annoying frustrating useless weird strange odd funny
same click sign come look please thanks thank hello hi hey dear sir madam
monday tuesday wednesday thursday friday saturday sunday
order orders account email phone number password parcel package delivery refund return
`
