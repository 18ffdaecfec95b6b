"""A small corpus of traditional nursery rhymes, typed in, for chapter 5.

Chapter 5 predicts the next character: "Humpty Dumpt" -> "y". The network it trains needs a
text in which such patterns repeat, short enough to learn in seconds; these rhymes are that
text. They are traditional English nursery rhymes in their common 19th-century wording, all
in the public domain (*Twinkle, Twinkle* is Jane Taylor's of 1806 and *Mary Had a Little
Lamb* Sarah Josepha Hale's of 1830). Only their usual first verse is kept where they have
several; no rhyme contains a blank line, so the rhymes can be told apart by blank lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from companion.checks import describe

_TEXTS = {
    "Humpty Dumpty": """\
Humpty Dumpty sat on a wall,
Humpty Dumpty had a great fall;
All the king's horses and all the king's men
Couldn't put Humpty together again.""",
    "Jack and Jill": """\
Jack and Jill went up the hill
To fetch a pail of water;
Jack fell down and broke his crown,
And Jill came tumbling after.""",
    "Baa, Baa, Black Sheep": """\
Baa, baa, black sheep,
Have you any wool?
Yes, sir, yes, sir,
Three bags full;
One for the master,
And one for the dame,
And one for the little boy
Who lives down the lane.""",
    "Twinkle, Twinkle, Little Star": """\
Twinkle, twinkle, little star,
How I wonder what you are!
Up above the world so high,
Like a diamond in the sky.
Twinkle, twinkle, little star,
How I wonder what you are!""",
    "Mary Had a Little Lamb": """\
Mary had a little lamb,
Its fleece was white as snow;
And everywhere that Mary went
The lamb was sure to go.""",
    "Hickory Dickory Dock": """\
Hickory, dickory, dock,
The mouse ran up the clock.
The clock struck one,
The mouse ran down,
Hickory, dickory, dock.""",
    "Little Miss Muffet": """\
Little Miss Muffet
Sat on a tuffet,
Eating her curds and whey;
Along came a spider,
Who sat down beside her
And frightened Miss Muffet away.""",
    "Hey Diddle Diddle": """\
Hey diddle diddle,
The cat and the fiddle,
The cow jumped over the moon;
The little dog laughed
To see such sport,
And the dish ran away with the spoon.""",
    "Old Mother Hubbard": """\
Old Mother Hubbard
Went to the cupboard,
To give the poor dog a bone;
When she came there,
The cupboard was bare,
And so the poor dog had none.""",
    "Sing a Song of Sixpence": """\
Sing a song of sixpence,
A pocket full of rye;
Four and twenty blackbirds,
Baked in a pie.
When the pie was opened,
The birds began to sing;
Wasn't that a dainty dish,
To set before the king?""",
    "Little Bo-Peep": """\
Little Bo-Peep has lost her sheep,
And doesn't know where to find them;
Leave them alone, and they'll come home,
Wagging their tails behind them.""",
    "Jack Be Nimble": """\
Jack be nimble,
Jack be quick,
Jack jump over
The candlestick.""",
    "Hot Cross Buns": """\
Hot cross buns!
Hot cross buns!
One a penny, two a penny,
Hot cross buns!
If you have no daughters,
Give them to your sons;
One a penny, two a penny,
Hot cross buns!""",
    "Pat-a-cake": """\
Pat-a-cake, pat-a-cake, baker's man,
Bake me a cake as fast as you can;
Pat it and prick it, and mark it with B,
And put it in the oven for baby and me.""",
    "Rain, Rain, Go Away": """\
Rain, rain, go away,
Come again another day;
Little Johnny wants to play.""",
    "Little Boy Blue": """\
Little Boy Blue, come blow your horn,
The sheep's in the meadow, the cow's in the corn.
But where is the boy who looks after the sheep?
He's under a haycock, fast asleep.
Will you wake him? No, not I,
For if I do, he's sure to cry.""",
    "Georgie Porgie": """\
Georgie Porgie, pudding and pie,
Kissed the girls and made them cry;
When the boys came out to play,
Georgie Porgie ran away.""",
    "Ring a Ring o' Roses": """\
Ring-a-ring o' roses,
A pocket full of posies,
A-tishoo! A-tishoo!
We all fall down.""",
    "One, Two, Buckle My Shoe": """\
One, two,
Buckle my shoe;
Three, four,
Knock at the door;
Five, six,
Pick up sticks;
Seven, eight,
Lay them straight;
Nine, ten,
A big fat hen.""",
    "Three Blind Mice": """\
Three blind mice, three blind mice,
See how they run, see how they run,
They all ran after the farmer's wife,
Who cut off their tails with a carving knife,
Did you ever see such a thing in your life,
As three blind mice?""",
    "Little Jack Horner": """\
Little Jack Horner
Sat in the corner,
Eating a Christmas pie;
He put in his thumb,
And pulled out a plum,
And said, "What a good boy am I!\"""",
    "Rock-a-bye Baby": """\
Rock-a-bye, baby, on the tree top,
When the wind blows, the cradle will rock;
When the bough breaks, the cradle will fall,
And down will come baby, cradle and all.""",
    "Pease Porridge Hot": """\
Pease porridge hot,
Pease porridge cold,
Pease porridge in the pot,
Nine days old.""",
    "Mary, Mary, Quite Contrary": """\
Mary, Mary, quite contrary,
How does your garden grow?
With silver bells and cockle shells,
And pretty maids all in a row.""",
    "Diddle, Diddle, Dumpling": """\
Diddle, diddle, dumpling, my son John,
Went to bed with his trousers on;
One shoe off, and one shoe on,
Diddle, diddle, dumpling, my son John.""",
    "Polly Put the Kettle On": """\
Polly, put the kettle on,
Polly, put the kettle on,
Polly, put the kettle on,
We'll all have tea.
Sukey, take it off again,
Sukey, take it off again,
Sukey, take it off again,
They've all gone away.""",
    "Little Tommy Tucker": """\
Little Tommy Tucker
Sings for his supper:
What shall we give him?
White bread and butter.
How shall he cut it
Without a knife?
How will he be married
Without a wife?""",
    "The Grand Old Duke of York": """\
Oh, the grand old Duke of York,
He had ten thousand men;
He marched them up to the top of the hill,
And he marched them down again.
And when they were up, they were up,
And when they were down, they were down,
And when they were only half-way up,
They were neither up nor down.""",
    "To Market, to Market": """\
To market, to market, to buy a fat pig,
Home again, home again, jiggety-jig;
To market, to market, to buy a fat hog,
Home again, home again, jiggety-jog.""",
    "Lazy Mary": """\
Lazy Mary, will you get up,
Will you get up, will you get up?
Lazy Mary, will you get up,
Will you get up today?""",
    "This Little Piggy": """\
This little piggy went to market,
This little piggy stayed home,
This little piggy had roast beef,
This little piggy had none,
And this little piggy cried, "Wee, wee, wee!"
All the way home.""",
}

#: The rhymes, title -> text (lines separated by ``"\n"``, no blank lines), read-only.
RHYMES: Mapping[str, str] = MappingProxyType(_TEXTS)


def nursery_rhymes(lowercase_letters_only: bool = False) -> str:
    """All the rhymes of :data:`RHYMES` as one text, a blank line between two rhymes.

    Parameters
    ----------
    lowercase_letters_only : bool
        If True, keep only what chapter 5's numbering a = 1, ..., z = 26 can write: the
        text is lower-cased, apostrophes are dropped ("king's" -> "kings") and every other
        run of punctuation, line breaks and spaces becomes a single space. The result uses
        27 symbols, ``a`` to ``z`` and the space, and the rhymes follow each other with a
        single space between them.

    Returns
    -------
    str
        The corpus; in the default form it ends with a newline.

    Examples
    --------
    >>> nursery_rhymes()[:31]
    'Humpty Dumpty sat on a wall,\\nHu'
    >>> nursery_rhymes(lowercase_letters_only=True)[:40]
    'humpty dumpty sat on a wall humpty dumpt'

    Notes
    -----
    Taught in chapter 5, Predicting the next character.
    """
    if not isinstance(lowercase_letters_only, bool):
        raise TypeError(
            f"lowercase_letters_only must be True or False; got {describe(lowercase_letters_only)}"
        )
    text = "\n\n".join(RHYMES.values()) + "\n"
    if not lowercase_letters_only:
        return text
    letters = text.lower().replace("'", "")
    return re.sub(r"[^a-z]+", " ", letters).strip()
